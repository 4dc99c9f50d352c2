import { Time } from '@jupyterlab/coreutils';
import type { TranslationBundle } from '@jupyterlab/translation';
import {
  caretDownIcon,
  caretRightIcon,
  deleteIcon,
  infoIcon,
  refreshIcon,
  stopIcon
} from '@jupyterlab/ui-components';
import React, { useRef, useState } from 'react';
import type { ISignal } from '@lumino/signaling';
import type { BuildsModel, IBuildSummary } from '../model';
import {
  creatorOf,
  displayNameOf,
  formatBytes,
  progressFraction,
  rebuildState
} from '../resource';
import type { ICustomNBImage, IProgress } from '../types';
import { IRowAction, RowActions, TextButton } from '../../ui/buttons';
import { useRovingFocus } from '../../ui/roving';
import { useSignal, useTick } from '../../ui/signals';
import { classNames } from '../../ui/classNames';

/** What the builds section's buttons do (implemented by the plugin). */
export interface IBuildActions {
  importImage(): void;
  openDetails(name: string): void;
  cancel(name: string): void;
  retry(name: string): void;
  remove(name: string): void;
  openRuntimeImage(name: string): void;
  /** Open the Details view of the image the build `name` made. */
  openImageDetails(name: string): void;
  /** Whether a Ready build can be published (the publish feature is there). */
  canPublish(): boolean;
  /** Open the Publish dialog of a Ready build. */
  publish(name: string): void;
  /** The tags the image suggests (`gpu`) that its runtime image lacks. */
  missingSuggestedTags(name: string): string[];
  /** Add those tags to the build's runtime image. */
  addSuggestedTags(name: string): void;
  /** Emitted when the runtime images change (their tags, for the suggestion). */
  readonly imagesChanged: ISignal<unknown, void>;
}

/** The phase as a person reads it (translated). */
export function phaseLabel(phase: string, trans: TranslationBundle): string {
  switch (phase) {
    case 'Pending':
      return trans.__('Pending');
    case 'Building':
      return trans.__('Building');
    case 'Ready':
      return trans.__('Ready');
    case 'Failed':
      return trans.__('Failed');
    default:
      return phase;
  }
}

const PHASE_GLYPHS: Record<string, string> = {
  Pending: '\u25cb', // ○
  Building: '\u25d4', // ◔ (spins)
  Ready: '\u2713', // ✓
  Failed: '\u2715' // ✕
};

/** Phase icon and text. */
export function PhaseBadge(props: {
  phase: string;
  trans: TranslationBundle;
}): JSX.Element {
  const { phase, trans } = props;
  return (
    <span
      className={`jp-RuntimeImages-buildPhase jp-mod-${phase.toLowerCase()}`}
      data-phase={phase}
    >
      <span className="jp-RuntimeImages-buildPhaseIcon" aria-hidden="true">
        {PHASE_GLYPHS[phase] ?? '\u2022'}
      </span>
      <span className="jp-RuntimeImages-buildPhaseText">
        {phaseLabel(phase, trans)}
      </span>
    </span>
  );
}

/** A progress bar: determinate with bytes, indeterminate without. */
export function BuildProgress(props: {
  progress?: IProgress;
  trans: TranslationBundle;
}): JSX.Element {
  const { progress, trans } = props;
  // Bytes give a determinate bar; steps alone (e.g. while a tag is resolved) do not.
  const hasBytes = (progress?.bytesTotal ?? 0) > 0;
  const fraction = hasBytes ? progressFraction(progress) : null;
  const stepsTotal = progress?.stepsTotal ?? 0;
  const step =
    stepsTotal > 0
      ? trans.__(
          'step %1 of %2',
          Math.min((progress?.stepsDone ?? 0) + 1, stepsTotal),
          stepsTotal
        )
      : '';
  let label: string;
  if (hasBytes) {
    const bytes = trans.__(
      '%1 of %2',
      formatBytes(progress?.bytesDone ?? 0),
      formatBytes(progress?.bytesTotal ?? 0)
    );
    label = step ? trans.__('%1 (%2)', bytes, step) : bytes;
  } else {
    label = step ? trans.__('Working… (%1)', step) : trans.__('Working…');
  }
  return (
    <div className="jp-RuntimeImages-buildProgressRow">
      <div
        className={`jp-RuntimeImages-buildProgress${
          fraction === null ? ' jp-mod-indeterminate' : ''
        }`}
        role="progressbar"
        aria-label={trans.__('Build progress')}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={
          fraction === null ? undefined : Math.round(fraction * 100)
        }
        aria-valuetext={label}
        title={label}
      >
        <div
          className="jp-RuntimeImages-buildProgressBar"
          style={
            fraction === null ? undefined : { width: `${fraction * 100}%` }
          }
        />
      </div>
      <span className="jp-RuntimeImages-buildProgressText">{label}</span>
    </div>
  );
}

/**
 * A build's status message, with its reason in front: the row and the details
 * show it alike (the row only gives the reason of a failure).
 */
export function BuildMessage(props: {
  summary: IBuildSummary;
  showReason: boolean;
  role?: string;
  title?: string;
}): JSX.Element | null {
  const { summary } = props;
  if (!summary.message) {
    return null;
  }
  return (
    <div
      className={`jp-RuntimeImages-buildMessage${
        summary.phase === 'Failed' ? ' jp-mod-error' : ''
      }`}
      role={props.role}
      title={props.title}
    >
      {props.showReason && summary.reason && (
        <span className="jp-RuntimeImages-buildReason">{summary.reason}</span>
      )}
      <span className="jp-RuntimeImages-buildMessageText">
        {summary.message}
      </span>
    </div>
  );
}

/** The button that shows the runtime image a Ready build made, in the panel. */
export function OpenRuntimeImageButton(props: {
  image: string;
  className: string;
  onClick: () => void;
  trans: TranslationBundle;
}): JSX.Element {
  const { trans } = props;
  return (
    <TextButton
      className={props.className}
      label={trans.__('Open runtime image %1', props.image)}
      onClick={props.onClick}
    >
      {trans.__('Open runtime image')}
    </TextButton>
  );
}

export function isRunning(phase: string): boolean {
  return phase === 'Pending' || phase === 'Building';
}

/** A button of a build: an icon in its row, a button with text in its details. */
export interface IBuildButton extends IRowAction {
  /** The text of the details' button (the label says on what it acts). */
  text: string;
  /** The style of the details' button. */
  kind?: 'warn' | 'reject';
}

/**
 * The buttons a build offers: Details (in its row), then in its row and its
 * details alike Cancel while it runs, else Retry; and Delete.
 */
export function buildButtons(
  name: string,
  phase: string,
  actions: IBuildActions,
  trans: TranslationBundle
): { details: IRowAction; run: IBuildButton; remove: IBuildButton } {
  return {
    details: {
      icon: infoIcon,
      label: trans.__('Details'),
      onClick: () => actions.openDetails(name)
    },
    run: isRunning(phase)
      ? {
          icon: stopIcon,
          label: trans.__('Cancel build'),
          text: trans.__('Cancel'),
          kind: 'warn',
          onClick: () => actions.cancel(name)
        }
      : {
          icon: refreshIcon,
          label: trans.__('Retry build'),
          text: trans.__('Retry'),
          onClick: () => actions.retry(name)
        },
    remove: {
      icon: deleteIcon,
      label: trans.__('Delete build'),
      text: trans.__('Delete'),
      kind: 'reject',
      onClick: () => actions.remove(name)
    }
  };
}

/** A build's button with text (in its details). */
export function BuildButton(props: { button: IBuildButton }): JSX.Element {
  const { button } = props;
  return (
    <TextButton
      className={classNames(
        'jp-mod-styled',
        button.kind && `jp-mod-${button.kind}`
      )}
      label={button.label}
      onClick={button.onClick}
    >
      {button.text}
    </TextButton>
  );
}

/**
 * The mark of a build that runs again because its base image moved, or whose
 * rebuild failed (the runtime image keeps the last good image).
 */
export function RebuildBadge(props: {
  build: ICustomNBImage;
  phase: string;
  trans: TranslationBundle;
}): JSX.Element | null {
  const { trans } = props;
  const rebuild = rebuildState(props.build, props.phase);
  if (!rebuild) {
    return null;
  }
  const failed = rebuild.state === 'failed';
  const title = failed
    ? rebuild.kept
      ? trans.__(
          'The rebuild on the new base image failed: the runtime image keeps the last good image %1.',
          rebuild.kept
        )
      : trans.__('The rebuild on the new base image failed.')
    : trans.__('Building again on the new base image %1.', rebuild.base);
  return (
    <span
      className={`jp-RuntimeImages-badge jp-RuntimeImages-rebuild${
        failed ? ' jp-mod-failed' : ''
      }`}
      data-rebuild={rebuild.state}
      title={title}
    >
      {failed ? trans.__('rebuild failed') : trans.__('rebuild')}
      <span className="jp-RuntimeImages-srOnly">{`: ${title}`}</span>
    </span>
  );
}

/** One build of the list. */
export function BuildRow(props: {
  build: ICustomNBImage;
  summary: IBuildSummary;
  trans: TranslationBundle;
  actions: IBuildActions;
}): JSX.Element {
  const { build, summary, trans, actions } = props;
  const name = build.metadata.name;
  const display = displayNameOf(build);
  const creator = creatorOf(build);
  const created = build.metadata.creationTimestamp;
  const buttons = buildButtons(name, summary.phase, actions, trans);
  const runtimeImage = build.status?.runtimeImage;
  const nameId = `jp-RuntimeImages-build-${name}`;
  return (
    <li
      className="jp-RuntimeImages-build"
      data-name={name}
      data-phase={summary.phase}
      aria-label={trans.__(
        'Build %1: %2',
        display,
        phaseLabel(summary.phase, trans)
      )}
    >
      <div className="jp-RuntimeImages-rowHeader">
        <PhaseBadge phase={summary.phase} trans={trans} />
        <RebuildBadge build={build} phase={summary.phase} trans={trans} />
        <button
          type="button"
          className="jp-RuntimeImages-buildName jp-RuntimeImages-linkButton"
          aria-label={trans.__('Show details of build %1', display)}
          title={trans.__('Show details of build %1 (%2)', display, name)}
          onClick={() => actions.openDetails(name)}
        >
          <span id={nameId}>{display}</span>
        </button>
        <RowActions
          describedBy={nameId}
          actions={[buttons.details, buttons.run, buttons.remove]}
        />
      </div>
      <BuildMessage
        summary={summary}
        title={
          summary.reason
            ? `${summary.reason}: ${summary.message}`
            : summary.message
        }
        showReason={summary.phase === 'Failed'}
      />
      {summary.phase === 'Building' && (
        <BuildProgress progress={summary.progress} trans={trans} />
      )}
      <div className="jp-RuntimeImages-buildMeta">
        {creator && (
          <span
            className="jp-RuntimeImages-buildCreator"
            title={trans.__('Creator')}
          >
            {creator}
          </span>
        )}
        {summary.engine && (
          <span
            className="jp-RuntimeImages-buildEngine"
            title={trans.__('Engine')}
          >
            {summary.engine}
          </span>
        )}
        {created && (
          <span
            className="jp-RuntimeImages-buildAge"
            title={Time.format(created)}
          >
            {Time.formatHuman(created)}
          </span>
        )}
        {summary.phase === 'Ready' && runtimeImage && (
          <OpenRuntimeImageButton
            className="jp-RuntimeImages-linkButton jp-RuntimeImages-openImage"
            image={runtimeImage}
            onClick={() => actions.openRuntimeImage(name)}
            trans={trans}
          />
        )}
      </div>
    </li>
  );
}

/**
 * The "Builds" section of the panel: every CustomNBImage, newest first, live.
 */
export function BuildsSection(props: {
  model: BuildsModel;
  trans: TranslationBundle;
  actions: IBuildActions;
}): JSX.Element {
  const { model, trans, actions } = props;
  useSignal(model.stateChanged);
  // For ages like "3 minutes ago".
  useTick(30000);
  const [expanded, setExpanded] = useState(true);
  const builds = model.builds;
  const list = useRef<HTMLUListElement>(null);
  // The list is one tab stop; the arrow keys move between the builds' buttons.
  const roving = useRovingFocus({
    rowCount: builds.length,
    renderedRows: () =>
      Array.from(list.current?.children ?? []).map((row, index) => [index, row])
  });
  const running = builds.filter(b => isRunning(model.summary(b).phase)).length;
  return (
    <section
      className="jp-RuntimeImages-builds"
      aria-label={trans.__('Builds')}
      data-count={builds.length}
    >
      <div className="jp-RuntimeImages-buildsHeader">
        <button
          type="button"
          className="jp-RuntimeImages-sectionToggle"
          aria-expanded={expanded}
          aria-label={
            expanded ? trans.__('Collapse builds') : trans.__('Expand builds')
          }
          title={
            expanded ? trans.__('Collapse builds') : trans.__('Expand builds')
          }
          onClick={() => setExpanded(!expanded)}
        >
          {expanded ? (
            <caretDownIcon.react tag="span" elementSize="normal" />
          ) : (
            <caretRightIcon.react tag="span" elementSize="normal" />
          )}
          <span className="jp-RuntimeImages-sectionTitle">
            {trans.__('Builds')}
          </span>
          <span className="jp-RuntimeImages-buildsCount">
            {running > 0
              ? trans.__('%1 (%2 running)', builds.length, running)
              : String(builds.length)}
          </span>
        </button>
      </div>
      {expanded && model.error && (
        <div className="jp-RuntimeImages-refreshError" role="alert">
          {trans.__('Could not list the builds: %1', model.error)}
        </div>
      )}
      {expanded && model.loaded && builds.length === 0 && (
        <div className="jp-RuntimeImages-message jp-RuntimeImages-buildsEmpty">
          {trans.__('No builds yet.')}{' '}
          <TextButton
            className="jp-RuntimeImages-linkButton"
            label={trans.__('Import an image')}
            onClick={() => actions.importImage()}
          />
        </div>
      )}
      {expanded && builds.length > 0 && (
        <ul
          ref={list}
          className="jp-RuntimeImages-buildList"
          aria-label={trans.__('Builds')}
          aria-live="polite"
          aria-relevant="additions"
          onKeyDown={roving.onKeyDown}
          onFocus={roving.onFocus}
          onBlur={roving.onBlur}
        >
          {builds.map(build => (
            <BuildRow
              key={build.metadata.name}
              build={build}
              summary={model.summary(build)}
              trans={trans}
              actions={actions}
            />
          ))}
        </ul>
      )}
    </section>
  );
}

import type { TranslationBundle } from '@jupyterlab/translation';
import React, { useCallback, useEffect, useRef, useState } from 'react';
import type { BuildsModel } from '../model';
import { creatorOf, displayNameOf, annotation } from '../resource';
import { Annotations, ICheck, IPackage } from '../types';
import {
  BuildButton,
  buildButtons,
  BuildMessage,
  BuildProgress,
  IBuildActions,
  OpenRuntimeImageButton,
  PhaseBadge,
  RebuildBadge
} from './BuildsSection';
import { formatTime } from '../../format';
import { TextButton } from '../../ui/buttons';
import { Facts } from '../../ui/Facts';
import { ChecksTable, DetailsSection, TableSection } from '../../ui/tables';
import { useSignal } from '../../ui/signals';

function PackageTable(props: {
  title: string;
  packages: IPackage[] | undefined;
  trans: TranslationBundle;
  className: string;
}): JSX.Element | null {
  const { title, packages, trans } = props;
  if (!Array.isArray(packages) || packages.length === 0) {
    return null;
  }
  return (
    <TableSection
      className={props.className}
      title={
        <>
          {title}{' '}
          <span className="jp-RuntimeImages-packageCount">
            ({packages.length})
          </span>
        </>
      }
      columns={[
        { header: trans.__('Name'), cell: pkg => pkg.name },
        { header: trans.__('Version'), cell: pkg => pkg.version ?? '' }
      ]}
      rows={packages}
      rowKey={(pkg, index) => `${pkg.name}-${index}`}
    />
  );
}

/**
 * A build's details: state, conditions history, checks, packages, the log, and
 * the actions (cancel, retry, delete, open the runtime image).
 */
export function BuildDetailsView(props: {
  model: BuildsModel;
  name: string;
  trans: TranslationBundle;
  actions: IBuildActions;
}): JSX.Element {
  const { model, name, trans, actions } = props;
  useSignal(model.stateChanged);
  useSignal(actions.imagesChanged);
  const [log, setLog] = useState<string | null>(null);
  const [logError, setLogError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const logTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const mounted = useRef(true);

  const loadLog = useCallback(async () => {
    try {
      const text = await model.log(name);
      if (mounted.current) {
        setLog(text);
        setLogError(null);
      }
    } catch (error) {
      if (mounted.current) {
        setLogError(error instanceof Error ? error.message : String(error));
      }
    }
  }, [model, name]);

  useEffect(() => {
    mounted.current = true;
    void model
      .fetch(name)
      .catch(() => undefined)
      .then(() => mounted.current && setLoading(false));
    void loadLog();
    // Follow the log while the build changes (at most once a second).
    const onChange = (_: unknown, changed: string) => {
      if (
        changed !== name ||
        logTimer.current !== null ||
        model.get(name) === undefined // deleted: no log any more
      ) {
        return;
      }
      logTimer.current = setTimeout(() => {
        logTimer.current = null;
        if (model.get(name) !== undefined) {
          void loadLog(); // not if it was deleted meanwhile
        }
      }, 1000);
    };
    model.buildChanged.connect(onChange);
    return () => {
      mounted.current = false;
      model.buildChanged.disconnect(onChange);
      if (logTimer.current !== null) {
        clearTimeout(logTimer.current);
      }
    };
  }, [model, name, loadLog]);

  const build = model.get(name);
  if (!build) {
    return (
      <div className="jp-RuntimeImages-buildDetails" data-name={name}>
        <div className="jp-RuntimeImages-message" role="status">
          {loading
            ? trans.__('Loading build %1…', name)
            : trans.__('The build %1 does not exist (any more).', name)}
        </div>
      </div>
    );
  }
  const summary = model.summary(build);
  const status = build.status ?? {};
  const conditions = Array.isArray(status.conditions) ? status.conditions : [];
  const checks: ICheck[] = Array.isArray(status.checks) ? status.checks : [];
  const { run, remove } = buildButtons(name, summary.phase, actions, trans);
  const display = displayNameOf(build);
  const description = annotation(build, Annotations.description);

  const facts: [string, React.ReactNode][] = [
    [trans.__('Resource name'), <code>{name}</code>],
    [trans.__('Build type'), build.spec?.buildType],
    [
      trans.__('From image'),
      build.spec?.fromImage && <code>{build.spec.fromImage}</code>
    ],
    [trans.__('Pinned image'), status.image && <code>{status.image}</code>],
    [
      trans.__('Profiles'),
      Array.isArray(build.spec?.profiles)
        ? build.spec.profiles.join(', ')
        : trans.__('default')
    ],
    [trans.__('Description'), description],
    [trans.__('Creator'), creatorOf(build)],
    [trans.__('Engine'), summary.engine],
    [trans.__('Created'), formatTime(build.metadata.creationTimestamp)],
    [trans.__('Runtime image'), status.runtimeImage],
    [
      trans.__('Last good image'),
      status.rebuild && status.lastGood?.image && (
        <code>{status.lastGood.image}</code>
      )
    ],
    [
      trans.__('Rebuild on base update'),
      annotation(build, Annotations.rebuildOnBaseUpdate) === 'true' &&
        trans.__('yes')
    ],
    [
      trans.__('Platforms'),
      status.platforms?.length ? (
        <ul className="jp-RuntimeImages-platformImages">
          {status.platforms.map(image => (
            <li key={image.platform}>
              {image.platform} <code>{image.digest}</code>
            </li>
          ))}
        </ul>
      ) : (
        annotation(build, Annotations.platforms)
      )
    ],
    [
      trans.__('Accelerators'),
      (status.accelerators ?? [])
        .map(a => (a.version ? `${a.name} ${a.version}` : a.name))
        .join(', ')
    ]
  ];

  return (
    <div
      className="jp-RuntimeImages-buildDetails"
      data-name={name}
      data-phase={summary.phase}
    >
      {/* Not a <header>: that is a banner landmark, the page's, not a tab's. */}
      <div className="jp-RuntimeImages-buildDetailsHeader">
        <h2 className="jp-RuntimeImages-buildDetailsTitle">{display}</h2>
        <PhaseBadge phase={summary.phase} trans={trans} />
        <RebuildBadge build={build} phase={summary.phase} trans={trans} />
      </div>
      <BuildMessage
        summary={summary}
        role={summary.phase === 'Failed' ? 'alert' : 'status'}
        showReason={true}
      />
      {summary.phase === 'Building' && (
        <BuildProgress progress={summary.progress} trans={trans} />
      )}
      <div className="jp-RuntimeImages-buildDetailsActions">
        <BuildButton button={run} />
        {summary.phase === 'Ready' && status.runtimeImage && (
          <OpenRuntimeImageButton
            className="jp-mod-styled jp-mod-accept"
            image={status.runtimeImage}
            onClick={() => actions.openRuntimeImage(name)}
            trans={trans}
          />
        )}
        {summary.phase === 'Ready' && (status.runtimeImage || status.image) && (
          <TextButton
            className="jp-mod-styled jp-RuntimeImages-imageDetailsLink"
            label={trans.__(
              'Details of the image %1',
              status.runtimeImage || status.image || ''
            )}
            onClick={() => actions.openImageDetails(name)}
          >
            {trans.__('Image details')}
          </TextButton>
        )}
        {summary.phase === 'Ready' && actions.canPublish() && (
          <TextButton
            className="jp-mod-styled jp-RuntimeImages-publishBuild"
            label={trans.__('Publish build %1', display)}
            onClick={() => actions.publish(name)}
          >
            {trans.__('Publish…')}
          </TextButton>
        )}
        <BuildButton button={remove} />
      </div>
      {summary.phase === 'Ready' &&
        actions.missingSuggestedTags(name).length > 0 && (
          <div
            className="jp-RuntimeImages-fieldWarning jp-RuntimeImages-suggestedTags"
            role="status"
          >
            {trans.__(
              'This image has accelerator libraries (%1): tag the runtime image "%2"?',
              (status.accelerators ?? [])
                .map(a => (a.version ? `${a.name} ${a.version}` : a.name))
                .join(', '),
              actions.missingSuggestedTags(name).join('", "')
            )}{' '}
            <TextButton
              className="jp-mod-styled jp-RuntimeImages-addSuggestedTags"
              label={trans.__(
                'Add the tags %1 to the runtime image',
                actions.missingSuggestedTags(name).join(', ')
              )}
              onClick={() => actions.addSuggestedTags(name)}
            >
              {trans.__('Add tag')}
            </TextButton>
          </div>
        )}
      <Facts
        className="jp-RuntimeImages-facts"
        facts={facts.filter(([, value]) => value)}
      />
      <TableSection
        className="jp-RuntimeImages-conditions"
        title={trans.__('Conditions')}
        columns={[
          { header: trans.__('Type'), cell: condition => condition.type },
          { header: trans.__('Status'), cell: condition => condition.status },
          {
            header: trans.__('Reason'),
            cell: condition => condition.reason ?? ''
          },
          {
            header: trans.__('Message'),
            cell: condition => condition.message ?? '',
            className: 'jp-RuntimeImages-conditionMessage'
          },
          {
            header: trans.__('Time'),
            cell: condition => formatTime(condition.lastTransitionTime),
            title: condition => condition.lastTransitionTime
          }
        ]}
        rows={conditions}
        rowKey={(condition, index) => index}
        rowAttributes={condition => ({
          className: condition.status === 'False' ? 'jp-mod-error' : undefined,
          'data-type': condition.type,
          'data-status': condition.status
        })}
        empty={trans.__('No condition yet.')}
      />
      {checks.length > 0 && (
        <DetailsSection
          className="jp-RuntimeImages-checks"
          title={trans.__('Checks')}
        >
          <ChecksTable checks={checks} trans={trans} />
        </DetailsSection>
      )}
      <PackageTable
        title={trans.__('Software')}
        packages={status.software}
        trans={trans}
        className="jp-RuntimeImages-software"
      />
      <PackageTable
        title={trans.__('Python packages')}
        packages={status.pythonDependencies}
        trans={trans}
        className="jp-RuntimeImages-pythonPackages"
      />
      <DetailsSection
        className="jp-RuntimeImages-log"
        title={
          <>
            {trans.__('Log')}{' '}
            <TextButton
              className="jp-RuntimeImages-linkButton"
              label={trans.__('Reload the log')}
              onClick={() => void loadLog()}
            >
              {trans.__('Reload')}
            </TextButton>
          </>
        }
      >
        {logError && (
          <div className="jp-RuntimeImages-refreshError" role="alert">
            {trans.__('Could not read the log: %1', logError)}
          </div>
        )}
        <pre className="jp-RuntimeImages-logText" tabIndex={0}>
          {log ?? trans.__('Loading…')}
        </pre>
      </DetailsSection>
    </div>
  );
}

import React, { useRef } from 'react';

/** A tab of a `Tabs`: its id (in the DOM ids) and its label. */
export interface ITab<K extends string> {
  id: K;
  label: string;
}

/**
 * Accessible tabs (WAI-ARIA "tabs with automatic activation"): a `tablist` of
 * `tab` buttons, one in the tab order (the selected one); Left/Right move to the
 * previous/next tab and select it, Home/End to the first/last. The selected
 * tab's panel is a `tabpanel` labelled by its tab, itself focusable.
 */
export function Tabs<K extends string>(props: {
  /** Prefix of the tab and panel ids (unique in the page). */
  idPrefix: string;
  label: string;
  tabs: ReadonlyArray<ITab<K>>;
  selected: K;
  onSelect: (id: K) => void;
  children: React.ReactNode;
}): JSX.Element {
  const { idPrefix, tabs, selected } = props;
  const list = useRef<HTMLDivElement>(null);
  const onKeyDown = (event: React.KeyboardEvent) => {
    const index = tabs.findIndex(tab => tab.id === selected);
    let next: number;
    switch (event.key) {
      case 'ArrowRight':
        next = (index + 1) % tabs.length;
        break;
      case 'ArrowLeft':
        next = (index - 1 + tabs.length) % tabs.length;
        break;
      case 'Home':
        next = 0;
        break;
      case 'End':
        next = tabs.length - 1;
        break;
      default:
        return;
    }
    event.preventDefault();
    props.onSelect(tabs[next].id);
    list.current
      ?.querySelector<HTMLElement>(`#${idPrefix}-tab-${tabs[next].id}`)
      ?.focus();
  };
  return (
    <div className="jp-RuntimeImages-tabs">
      <div
        ref={list}
        role="tablist"
        aria-label={props.label}
        className="jp-RuntimeImages-tabList"
        onKeyDown={onKeyDown}
      >
        {tabs.map(tab => (
          <button
            key={tab.id}
            id={`${idPrefix}-tab-${tab.id}`}
            type="button"
            role="tab"
            className="jp-RuntimeImages-tab"
            data-tab={tab.id}
            aria-selected={tab.id === selected}
            aria-controls={`${idPrefix}-panel-${tab.id}`}
            tabIndex={tab.id === selected ? 0 : -1}
            onClick={() => props.onSelect(tab.id)}
          >
            {tab.label}
          </button>
        ))}
      </div>
      <div
        id={`${idPrefix}-panel-${selected}`}
        role="tabpanel"
        aria-labelledby={`${idPrefix}-tab-${selected}`}
        className="jp-RuntimeImages-tabPanel"
        data-tab={selected}
        tabIndex={0}
      >
        {props.children}
      </div>
    </div>
  );
}

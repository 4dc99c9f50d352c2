import type { TranslationBundle } from '@jupyterlab/translation';
import React, { useState } from 'react';
import { PROFILES } from '../../profiles';
import { TextButton } from '../../ui/buttons';
import { useSignal } from '../../ui/signals';
import { ChecksTable } from '../../ui/tables';
import type { DetailsModel } from '../model';
import { Loading } from './Loading';

/** The Checks tab: the requirement profiles' checks (`POST validate`), profiles to choose. */
export function ChecksTab(props: {
  model: DetailsModel;
  trans: TranslationBundle;
}): JSX.Element {
  const { model, trans } = props;
  useSignal(model.checks.changed);
  const checked = model.profiles;
  const [chosen, setChosen] = useState<string[] | null>(null);
  const profiles = chosen ?? [...checked];
  const choices = [
    ...PROFILES,
    ...checked.filter(p => !(PROFILES as readonly string[]).includes(p))
  ];
  return (
    <div className="jp-RuntimeImages-checksTab">
      <fieldset className="jp-RuntimeImages-profileChoice">
        <legend>{trans.__('Profiles')}</legend>
        {choices.map(profile => (
          <label key={profile} className="jp-RuntimeImages-profile">
            <input
              type="checkbox"
              checked={profiles.includes(profile)}
              onChange={event =>
                setChosen(
                  event.currentTarget.checked
                    ? [...profiles, profile]
                    : profiles.filter(p => p !== profile)
                )
              }
            />
            {profile}
          </label>
        ))}
        <TextButton
          className="jp-mod-styled jp-mod-accept"
          label={trans.__('Check the image')}
          disabled={profiles.length === 0 || model.checks.status === 'loading'}
          onClick={() => {
            setChosen(null);
            model.setProfiles(profiles);
          }}
        >
          {trans.__('Check')}
        </TextButton>
      </fieldset>
      <Loading
        loader={model.checks}
        trans={trans}
        what={trans.__('Checking the image…')}
        model={model}
      >
        {data => (
          <>
            <p
              className={`jp-RuntimeImages-checksSummary${
                data.ok ? '' : ' jp-mod-error'
              }`}
              data-ok={data.ok}
            >
              {data.ok
                ? trans.__('The image meets %1.', data.profiles.join(', '))
                : trans.__(
                    'The image does not meet %1.',
                    data.profiles.join(', ')
                  )}
            </p>
            <ChecksTable checks={data.checks} trans={trans} />
          </>
        )}
      </Loading>
    </div>
  );
}

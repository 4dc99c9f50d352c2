/**
 * The `gpu` tag suggestion of a build (issue 19): adding the suggested tags to
 * its runtime image keeps the tags it has, and is a guarded (If-Match) write.
 */
// First: replaces the REST boundary for the imports below.
import {
  mockedRequestAPI as mocked,
  response,
  SETTINGS
} from '../../__tests__/support';

import { BuildsAPI } from '../api';

describe('BuildsAPI.addImageTags', () => {
  it('merges the tags into those of the image, with If-Match', async () => {
    const api = new BuildsAPI({ serverSettings: SETTINGS });
    mocked
      .mockResolvedValueOnce(
        response({ metadata: { tags: ['team', 'gpu'] } }, { etag: '"7"' })
      )
      .mockResolvedValueOnce(response({}));
    await api.addImageTags('my-build', ['gpu', 'cuda']);
    expect(mocked.mock.calls[0][0]).toBe('images/my-build');
    expect(mocked.mock.calls[1]).toEqual([
      'images/my-build',
      {
        method: 'PATCH',
        headers: {
          'Content-Type': 'application/merge-patch+json',
          'If-Match': '"7"'
        },
        body: JSON.stringify({ metadata: { tags: ['team', 'gpu', 'cuda'] } })
      },
      SETTINGS
    ]);
  });
});

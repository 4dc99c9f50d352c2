import { parseImageReference, shortDigest } from '../imageref';

describe('parseImageReference', () => {
  it.each([
    ['python', 'docker.io', false, 'python', null, null],
    [
      'jupyter/r-notebook:py3',
      'docker.io',
      false,
      'jupyter/r-notebook',
      'py3',
      null
    ],
    ['quay.io/org/img:1.0', 'quay.io', true, 'org/img', '1.0', null],
    ['localhost:5000/img', 'localhost:5000', true, 'img', null, null],
    ['localhost/img:2', 'localhost', true, 'img', '2', null],
    [
      'reg.example.com:443/a/b:1@sha256:' + 'a'.repeat(64),
      'reg.example.com:443',
      true,
      'a/b',
      '1',
      'sha256:' + 'a'.repeat(64)
    ],
    [
      'a/b@sha256:' + 'b'.repeat(64),
      'docker.io',
      false,
      'a/b',
      null,
      'sha256:' + 'b'.repeat(64)
    ]
  ])('%s', (ref, registry, explicit, repository, tag, digest) => {
    expect(parseImageReference(ref)).toEqual({
      registry,
      explicitRegistry: explicit,
      repository,
      tag,
      digest
    });
  });

  it('shortens digests', () => {
    expect(shortDigest('sha256:' + '0123456789abcdef'.repeat(4))).toBe(
      'sha256:0123456789ab'
    );
  });
});

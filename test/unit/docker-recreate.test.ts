import assert from 'node:assert/strict';
import { test } from 'node:test';
import { oneOffSpec, recreateSpec, type RawContainer } from '../../src/targets/docker-recreate.ts';

const ID = 'abcdef1234567890'.repeat(4);
const oldImage = {
  Id: 'sha256:old',
  Config: { Env: ['PATH=/bin', 'APP_VERSION=v1'], Cmd: ['httpd', '-f'], Labels: { 'org.opencontainers.image.version': 'v1' }, Healthcheck: { Test: ['CMD', 'true'] }, WorkingDir: '/app', ExposedPorts: { '8080/tcp': {} } },
} as never;

/** A compose-made container of the old image, as the engine's inspect shows it. */
function container(over: { Cmd?: string[]; Healthcheck?: unknown } = {}): RawContainer {
  return {
    Id: ID,
    Name: '/mitong-backend-1',
    Image: 'sha256:old',
    Config: {
      Hostname: ID.slice(0, 12), Image: 'mitong/backend:v1',
      Env: ['PATH=/bin', 'APP_VERSION=v1', 'DATABASE_URL=postgres://app@db/mitong'],
      Cmd: over.Cmd ?? ['httpd', '-f'], WorkingDir: '/app', ExposedPorts: { '8080/tcp': {} },
      Labels: { 'org.opencontainers.image.version': 'v1', 'com.docker.compose.project': 'mitong', 'com.docker.compose.service': 'backend' },
      Healthcheck: over.Healthcheck ?? { Test: ['CMD', 'true'] },
    },
    HostConfig: { NetworkMode: 'mitong_default', Binds: ['/srv/data:/data'], PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '5000' }] }, RestartPolicy: { Name: 'unless-stopped', MaximumRetryCount: 0 } },
    Mounts: [
      { Type: 'bind', Source: '/srv/data', Destination: '/data', RW: true },
      { Type: 'volume', Name: 'f00d', Source: '/var/lib/docker/volumes/f00d/_data', Destination: '/cache', RW: true },
    ],
    NetworkSettings: { Networks: { mitong_default: { Aliases: ['backend', ID.slice(0, 12)], Links: null, IPAMConfig: null } } },
  } as never;
}

test('what the container only inherited from its old image is left to the new one; its own settings stay', () => {
  const spec = recreateSpec(container(), oldImage, 'mitong/backend:v2', 'mitong-backend-1');
  assert.equal(spec.Image, 'mitong/backend:v2');
  assert.equal(spec.name, 'mitong-backend-1');
  assert.deepEqual(spec.Env, ['DATABASE_URL=postgres://app@db/mitong']);
  assert.equal(spec.Cmd, undefined);
  assert.equal(spec.Healthcheck, undefined);
  assert.equal(spec.WorkingDir, undefined);
  assert.equal(spec.ExposedPorts, undefined);
  assert.equal(spec.Hostname, undefined, 'the id-derived hostname is the engine\'s, not config');
  assert.deepEqual(spec.Labels, { 'com.docker.compose.project': 'mitong', 'com.docker.compose.service': 'backend' });
  assert.deepEqual(spec.HostConfig.PortBindings, { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '5000' }] });
  assert.deepEqual(spec.HostConfig.RestartPolicy, { Name: 'unless-stopped', MaximumRetryCount: 0 });
  // The anonymous volume keeps its data, as compose does.
  assert.deepEqual(spec.HostConfig.Binds, ['/srv/data:/data', 'f00d:/cache']);
  assert.deepEqual(spec.NetworkingConfig, { EndpointsConfig: { mitong_default: { Aliases: ['backend'], Links: undefined, IPAMConfig: undefined } } });
});

test('a command or healthcheck set on the container itself is kept', () => {
  const spec = recreateSpec(container({ Cmd: ['gunicorn', 'app'], Healthcheck: { Test: ['CMD', 'curl', '-f', 'http://localhost/'] } }), oldImage, 'mitong/backend:v2', 'mitong-backend-1');
  assert.deepEqual(spec.Cmd, ['gunicorn', 'app']);
  assert.deepEqual(spec.Healthcheck, { Test: ['CMD', 'curl', '-f', 'http://localhost/'] });
});

test('without the old image, every setting of the container is kept', () => {
  const spec = recreateSpec(container(), null, 'mitong/backend:v2', 'mitong-backend-1');
  assert.deepEqual(spec.Env, ['PATH=/bin', 'APP_VERSION=v1', 'DATABASE_URL=postgres://app@db/mitong']);
  assert.deepEqual(spec.Cmd, ['httpd', '-f']);
  assert.equal(spec.Labels?.['org.opencontainers.image.version'], 'v1');
});

test('a one-off container has the env, mounts and network, but serves nothing', () => {
  const spec = oneOffSpec(container(), oldImage, 'mitong/backend:v2', 'mitong-backend-1-migrate-x', ['flask', 'db', 'upgrade']);
  assert.deepEqual(spec.Cmd, ['flask', 'db', 'upgrade']);
  assert.deepEqual(spec.Env, ['DATABASE_URL=postgres://app@db/mitong']);
  assert.deepEqual(spec.Labels, {}, 'not counted as a container of the service');
  assert.deepEqual(spec.HostConfig?.PortBindings, {});
  assert.deepEqual(spec.HostConfig?.RestartPolicy, { Name: 'no' });
  assert.deepEqual(spec.HostConfig?.Binds, ['/srv/data:/data', 'f00d:/cache']);
  assert.deepEqual(spec.Healthcheck, { Test: ['NONE'] });
  assert.deepEqual(spec.NetworkingConfig?.EndpointsConfig?.mitong_default?.Aliases, []);
});

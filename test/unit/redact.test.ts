import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { redactDeep, redactText } from '../../src/core/redact.ts';
import { ALL_SECRETS, CLEAN_TEXT, SECRET_CASES } from '../fixtures/secrets-corpus.ts';

/** The secret must be gone, and the text around it must still be there. */
function assertRedacted(input: string, secret: string, kept: string[] = []): string {
  const out = redactText(input);
  assert.ok(!out.includes(secret), `secret ${JSON.stringify(secret)} leaked in ${JSON.stringify(out)}`);
  for (const k of kept) assert.ok(out.includes(k), `${JSON.stringify(k)} should survive in ${JSON.stringify(out)}`);
  return out;
}

describe('redactText', () => {
  test('connection strings lose the password but keep user, host and database', () => {
    assertRedacted('connect postgres://admin:s3cr3t-Pa55@db.internal:5432/mitong_devops failed', 's3cr3t-Pa55', [
      'postgres://admin:', '@db.internal:5432/mitong_devops', 'connect ', ' failed',
    ]);
    assertRedacted('postgresql://u:hunter2@h/db?sslmode=require', 'hunter2', ['sslmode=require']);
    assertRedacted('REDIS_URL=redis://:r3disPw@cache:6379/0', 'r3disPw', ['cache:6379/0']);
    assertRedacted('amqp://guest:gu3stPw@mq:5672/', 'gu3stPw', ['mq:5672']);
  });

  test('connection strings without a password are unchanged', () => {
    for (const s of ['postgres://postgres@127.0.0.1:5432/mitong_devops', 'redis://127.0.0.1:6379/0', 'https://example.com:8443/path']) {
      assert.equal(redactText(s), s);
    }
  });

  test('Slack bot, user and app tokens are removed', () => {
    assertRedacted('token is xoxb-1234567890-0987654321-AbCdEfGhIjKl ok', 'xoxb-1234567890-0987654321-AbCdEfGhIjKl', ['ok']);
    assertRedacted('xoxp-11-22-33-abcdef', '11-22-33-abcdef');
    assertRedacted('SLACK_APP_TOKEN xapp-1-A012345-6789-deadbeefcafe', 'deadbeefcafe', ['SLACK_APP_TOKEN']);
  });

  test('password=, PGPASSWORD=, "password": forms lose the value', () => {
    assertRedacted('password=hunter2 user=ops', 'hunter2', ['user=ops']);
    assertRedacted('PGPASSWORD=Xy9!z pg_dump mitong_devops', 'Xy9!z', ['pg_dump mitong_devops']);
    assertRedacted('{"password": "jsonPw", "user": "ops"}', 'jsonPw', ['"user": "ops"']);
    assertRedacted('redis_password: yamlPw', 'yamlPw');
    assertRedacted('GITHUB_TOKEN=ghp_abcdef123', 'ghp_abcdef123');
  });

  test('a quoted password containing spaces is removed whole', () => {
    assertRedacted('DB_PASSWORD="correct horse battery" next', 'horse battery', ['next']);
    assertRedacted("password: 'two words'", 'words');
  });

  test("Flask's SECRET_KEY= value is removed", () => {
    assertRedacted('SECRET_KEY=f1a5kS3cr3tV4lue', 'f1a5kS3cr3tV4lue', ['SECRET_KEY']);
  });

  test('PEM private keys are removed entirely, the surrounding text kept', () => {
    const body = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAA';
    for (const kind of ['RSA PRIVATE KEY', 'OPENSSH PRIVATE KEY', 'PRIVATE KEY', 'EC PRIVATE KEY']) {
      const pem = `-----BEGIN ${kind}-----\n${body}\n-----END ${kind}-----`;
      const out = assertRedacted(`key:\n${pem}\ndone`, 'MIIEvQIBADAN', ['key:', 'done']);
      assert.ok(!out.includes('b3BlbnNzaC1rZXkt'), 'no line of the key survives');
      assert.ok(!out.includes('BEGIN'), 'the armour is gone too');
    }
  });

  test('public keys and certificates are not mistaken for secrets', () => {
    const cert = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';
    assert.equal(redactText(cert), cert);
    const pub = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB ops@app1';
    assert.equal(redactText(pub), pub);
  });

  test('every occurrence is redacted, not just the first', () => {
    const out = assertRedacted('postgres://a:one@h/db and postgres://b:two@h/db', 'one');
    assert.ok(!out.includes('two'), out);
  });

  test('text without secrets is unchanged', () => {
    for (const s of [
      '',
      'backend: up 3 days, 12 ms, v16.4, 5/100 connections',
      'disk /: 81% used (warn at 80%)',
      'user@example.com wrote: a:b c=d',
      '健康检查完成，一切正常',
      'ERROR 2024-01-01 12:00:00 connection refused (127.0.0.1:5432)',
    ]) {
      assert.equal(redactText(s), s);
    }
  });
});

describe('redactText: the shared corpus', () => {
  for (const c of SECRET_CASES) {
    test(c.name, () => {
      assertRedacted(c.text, c.secrets[0], c.keep);
      const out = redactText(c.text);
      for (const s of c.secrets) assert.ok(!out.includes(s), `${JSON.stringify(s)} leaked in ${JSON.stringify(out)}`);
    });
  }

  test('all cases in one text, on one line and on many', () => {
    for (const sep of ['\n', ' ', ' | ']) {
      const out = redactText(SECRET_CASES.map((c) => c.text).join(sep));
      for (const s of ALL_SECRETS) assert.ok(!out.includes(s), `${JSON.stringify(s)} leaked (separator ${JSON.stringify(sep)})`);
    }
  });

  test('clean text is unchanged', () => {
    for (const t of CLEAN_TEXT) assert.equal(redactText(t), t);
  });

  test('a URL password with @ and : loses all of it, and the host is kept', () => {
    assert.equal(redactText('postgres://u:p@ss:w@rd@host/db'), 'postgres://u:***@host/db');
    assert.equal(redactText('redis://default:a:b@c@cache:6379'), 'redis://default:***@cache:6379');
  });

  test('a PEM key cut off without END loses its base64 lines, and the log after it survives', () => {
    const out = redactText('-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIS3KRTxx\nAwEHoUQDQgAE\n[12:00:01] next entry, fine');
    assert.ok(!out.includes('S3KRT') && !out.includes('AwEHoUQDQgAE'), out);
    assert.ok(out.includes('[12:00:01] next entry, fine'), out);
    // A partial last line goes, up to its first character that cannot be base64.
    assert.equal(redactText('x -----BEGIN PRIVATE KEY-----\nMIIBS3KRT\nMIIcutS3KRT... (truncated)'), 'x [private key redacted]... (truncated)');
    // Flattened onto one line.
    assert.equal(redactText('KEY=-----BEGIN RSA PRIVATE KEY----- MIIES3KRT abcS3KRT== ; rest'), 'KEY=[private key redacted] ; rest');
  });

  test('--password, redis-cli -a and Bearer need their context', () => {
    for (const s of ['ls -a /tmp', 'docker ps -a', 'the bearer of bad news', 'uname -a']) assert.equal(redactText(s), s);
    assert.equal(redactText("redis-cli -a 'x;y' ping"), 'redis-cli -a *** ping');
    assert.equal(redactText('redis-cli --pass S3KRT ping'), 'redis-cli --pass *** ping');
  });

  test('already redacted text stays the same (idempotent)', () => {
    for (const c of SECRET_CASES) {
      const once = redactText(c.text);
      assert.equal(redactText(once), once, c.name);
    }
  });
});

describe('redactDeep', () => {
  test('redacts strings at any depth and keeps the shape and other values', () => {
    const input = {
      text: 'postgres://u:deepPw1@h/db',
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'password=deepPw2' } }, 'xoxb-1-2-deepTok3'],
      n: 42,
      ok: true,
      none: null,
      missing: undefined,
    };
    const out = redactDeep(input);
    const json = JSON.stringify(out);
    for (const secret of ['deepPw1', 'deepPw2', 'deepTok3']) assert.ok(!json.includes(secret), `${secret} leaked: ${json}`);
    assert.equal(out.n, 42);
    assert.equal(out.ok, true);
    assert.equal(out.none, null);
    assert.equal(out.blocks.length, 2);
    assert.equal((out.blocks[0] as { type: string }).type, 'section');
    assert.match(out.text, /^postgres:\/\/u:.*@h\/db$/);
  });

  test('does not modify its input', () => {
    const input = { a: ['password=keepMe'] };
    redactDeep(input);
    assert.deepEqual(input, { a: ['password=keepMe'] });
  });

  test('a value without secrets comes back equal', () => {
    const input = { a: [1, 'two', { three: 'three', four: [false, null] }] };
    assert.deepEqual(redactDeep(input), input);
  });
});

test('a command named for secrets and its summary are not a key and its value', () => {
  for (const line of ['/secrets: Secrets (manual §5.2): list their age', '/secrets: 密钥管理（手册 §5.2）：查看密钥的存在时长', '/token: a summary']) {
    assert.equal(redactText(line), line);
  }
  assert.equal(redactText('*/secrets*: Secrets (manual §5.2)'), '*/secrets*: Secrets (manual §5.2)');
  // The same words as a key and value still are, in a path too.
  assert.equal(redactText('secrets: hunter2-long'), 'secrets: ***');
  assert.equal(redactText('cat /etc/app/secret_key: AbC123xyz'), 'cat /etc/app/secret_key: ***');
  assert.equal(redactText('/run/secrets/password=hunter22'), '/run/secrets/password=***');
  assert.equal(redactText('kv/secret_id=s3cr3t'), 'kv/secret_id=***');
  assert.equal(redactText('db_secret: 密钥值'), 'db_secret: ***');
});

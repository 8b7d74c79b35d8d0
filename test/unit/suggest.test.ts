import { test } from 'node:test';
import assert from 'node:assert/strict';
import { didYouMean } from '../../src/core/suggest.ts';

const commands = ['health', 'restart', 'backup', 'restore', 'logs', 'ops'];

test('a one-letter typo finds the intended word', () => {
  assert.equal(didYouMean('helth', commands), 'health');
  assert.equal(didYouMean('restrat', commands), 'restart');
  assert.equal(didYouMean('bakup', commands), 'backup');
  assert.equal(didYouMean('log', commands), 'logs');
});

test('case does not matter, and the candidate is returned as written', () => {
  assert.equal(didYouMean('HEALTH', commands), 'health');
  assert.equal(didYouMean('helth', ['Health']), 'Health');
});

test('an unambiguous prefix is suggested', () => {
  assert.equal(didYouMean('resto', commands), 'restore');
  assert.equal(didYouMean('heal', commands), 'health');
});

test('unrelated words get no suggestion', () => {
  for (const word of ['kubernetes', 'deploy', 'xyz', 'migrate', 'shutdown']) {
    assert.equal(didYouMean(word, commands), undefined, word);
  }
});

test('very short inputs are not stretched into a guess', () => {
  assert.equal(didYouMean('x', ['backup', 'restore']), undefined);
  assert.equal(didYouMean('zz', ['ops', 'logs']), undefined);
});

test('no candidates, no suggestion', () => {
  assert.equal(didYouMean('health', []), undefined);
});

import { describe, expect, it } from 'vitest';
import { parseLabelSelector } from '../../src/kube/selector.js';

describe('label selectors (kubectl -l syntax)', () => {
  const pod = { app: 'web', tier: 'frontend', 'app.kubernetes.io/part-of': 'shop', canary: '' };
  const cases: Array<[string, boolean]> = [
    ['app=web', true], ['app==web', true], ['app=api', false], ['app!=api', true], ['app!=web', false],
    ['missing!=x', true], ['tier in (frontend, backend)', true], ['tier in (backend)', false],
    ['tier notin (backend)', true], ['missing notin (x)', true], ['canary', true], ['!canary', false],
    ['!missing', true], ['app.kubernetes.io/part-of=shop', true], ['app=web,tier in (frontend),!missing', true],
    ['app=web,tier=backend', false],
  ];
  for (const [sel, want] of cases) it(`${sel} -> ${want}`, () => expect(parseLabelSelector(sel)(pod)).toBe(want));

  it('says what is wrong with a bad selector', () => {
    expect(() => parseLabelSelector('app in (a,b')).toThrow(/unbalanced "\("/);
    expect(() => parseLabelSelector('app=web,,tier=x')).toThrow(/empty term/);
    expect(() => parseLabelSelector('-bad=x')).toThrow(/invalid label key "-bad"/);
    expect(() => parseLabelSelector('app=we b')).toThrow(/invalid/);
  });
});

import { describe, expect, it } from 'vitest';
import { addFilter, formatSelector, levelsOf, matcherFor, setLevelFilter, setSelectorLabel, splitQuery, valuesOf } from '../../../src/ui/lib/selector.js';

describe('selector editing', () => {
  it('splits a query into its selector and the rest, untouched', () => {
    expect(splitQuery('{namespace="shop", pod=~"web-.*"} |= "GET" | json')).toEqual({
      matchers: [{ name: 'namespace', op: '=', value: 'shop' }, { name: 'pod', op: '=~', value: 'web-.*' }],
      rest: ' |= "GET" | json',
    });
    expect(splitQuery('{a="x\\"y}"}')!.matchers[0]!.value).toBe('x"y}');
    expect(splitQuery('sum(count_over_time({a="b"}[1m]))')).toBeNull();
    expect(splitQuery('')).toEqual({ matchers: [], rest: '' });
  });

  it('builds matchers from picked values: one is =, several a regex of escaped values', () => {
    expect(matcherFor('pod', [])).toBeNull();
    expect(matcherFor('pod', ['web-1'])).toEqual({ name: 'pod', op: '=', value: 'web-1' });
    expect(matcherFor('image', ['a.io/x:1', 'b'])).toEqual({ name: 'image', op: '=~', value: 'a\\.io/x:1|b' });
    expect(valuesOf(matcherFor('image', ['a.io/x:1', 'b'])!)).toEqual(['a.io/x:1', 'b']);
    expect(valuesOf({ name: 'pod', op: '=~', value: 'web-.*' })).toEqual([]);
  });

  it('sets and clears picker labels in the selector, keeping the pipeline', () => {
    let q = setSelectorLabel('', 'namespace', ['shop']);
    expect(q).toBe('{namespace="shop"}');
    q = setSelectorLabel(q + ' |= "error"', 'container', ['app', 'sidecar']);
    expect(q).toBe('{namespace="shop", container=~"app|sidecar"} |= "error"');
    q = setSelectorLabel(q, 'namespace', ['data']);
    expect(q).toBe('{container=~"app|sidecar", namespace="data"} |= "error"');
    q = setSelectorLabel(setSelectorLabel(q, 'namespace', []), 'container', []);
    // A selector needs a matcher: the last cleared picker leaves "any value".
    expect(q).toBe('{container=~".+"} |= "error"');
    expect(formatSelector([{ name: 'a', op: '!=', value: 'q"' }])).toBe('{a!="q\\""}');
  });

  it('picks levels with a detected_level filter stage (metadata, not a stream label)', () => {
    let q = setLevelFilter('{app="web"} |= "x"', ['error']);
    expect(q).toBe('{app="web"} | detected_level="error" |= "x"');
    expect(levelsOf(q)).toEqual(['error']);
    q = setLevelFilter(q, ['error', 'warn']);
    expect(q).toBe('{app="web"} | detected_level=~"error|warn" |= "x"');
    expect(levelsOf(q)).toEqual(['error', 'warn']);
    expect(setLevelFilter(q, [])).toBe('{app="web"} |= "x"');
  });

  it('adds clicked labels to the selector and fields as filters after their parser', () => {
    expect(addFilter('{app="web"} |= "x"', 'pod', 'web-1', 'stream')).toBe('{app="web", pod="web-1"} |= "x"');
    expect(addFilter('{app="web"}', 'detected_level', 'error', 'metadata')).toBe('{app="web"} | detected_level="error"');
    expect(addFilter('{app="web"}', 'user.id', '42', 'json')).toBe('{app="web"} | json | user_id="42"');
    expect(addFilter('{app="web"} | json', 'status', '500', 'json')).toBe('{app="web"} | json | status="500"');
    expect(addFilter('{app="web"}', 'duration', '1.5s', 'logfmt')).toBe('{app="web"} | logfmt | duration="1.5s"');
  });
});

import { describe, expect, it } from 'vitest';
import { parseLine } from '../../../src/ui/lib/fields.js';

describe('field extraction', () => {
  it('flattens JSON objects into dotted keys with string values', () => {
    expect(parseLine('{"level":"info","req":{"method":"GET","status":200},"tags":["a"],"ok":true,"n":null}')).toEqual({
      format: 'json',
      fields: [
        { key: 'level', value: 'info' }, { key: 'req.method', value: 'GET' }, { key: 'req.status', value: '200' },
        { key: 'tags', value: '["a"]' }, { key: 'ok', value: 'true' }, { key: 'n', value: 'null' },
      ],
    });
  });

  it('reads logfmt with quoted values and escapes', () => {
    expect(parseLine('level=warn msg="slow query \\"users\\"" duration=1.5s db.name=main')).toEqual({
      format: 'logfmt',
      fields: [{ key: 'level', value: 'warn' }, { key: 'msg', value: 'slow query "users"' }, { key: 'duration', value: '1.5s' }, { key: 'db.name', value: 'main' }],
    });
    expect(parseLine('a= b=2')!.fields).toEqual([{ key: 'a', value: '' }, { key: 'b', value: '2' }]);
  });

  it('leaves prose, single pairs, broken JSON and arrays alone', () => {
    expect(parseLine('GET /index.html 200 took=3ms')).toBeNull();
    expect(parseLine('user=bob')).toBeNull();
    expect(parseLine('{"broken": ')).toBeNull();
    expect(parseLine('[1,2]')).toBeNull();
    expect(parseLine('')).toBeNull();
  });
});

import { describe, expect, it } from 'vitest';
import { expandEnv } from '../../src/config/index.js';

describe('expandEnv', () => {
  const env = { A: 'a', EMPTY: '' };

  it('substitutes variables, defaults and $$', () => {
    expect(expandEnv('x${A}y', env)).toEqual({ value: 'xay' });
    expect(expandEnv('${B:-dflt}', env)).toEqual({ value: 'dflt' });
    expect(expandEnv('${B:-}', env)).toEqual({ value: '' });
    expect(expandEnv('${EMPTY:-d}', env)).toEqual({ value: 'd' });
    expect(expandEnv('${EMPTY}', env)).toEqual({ value: '' });
    expect(expandEnv('$$A $${A} $$$$', env)).toEqual({ value: '$A ${A} $$' });
    expect(expandEnv('costs $5', env)).toEqual({ value: 'costs $5' });
  });

  it('explains what is wrong', () => {
    expect(expandEnv('${B}', env)).toEqual({ error: 'environment variable "B" is not set' });
    expect(expandEnv('${1X}', env)).toEqual({
      error: 'invalid environment reference "${1X}" (expected ${NAME} or ${NAME:-default})',
    });
    expect(expandEnv('pre ${A', env)).toEqual({ error: 'unterminated "${" (write "$$" for a literal "$")' });
  });
});

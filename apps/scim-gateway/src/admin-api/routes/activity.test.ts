import { describe, expect, it } from 'vitest';
import { csvCell } from './activity.js';

describe('csvCell formula guard', () => {
  it('neutralises the formula starts spreadsheets honour, including after spaces and in full-width form', () => {
    expect(csvCell('=1+1')).toBe("'=1+1");
    expect(csvCell(' =HYPERLINK("x")')).toBe(`"' =HYPERLINK(""x"")"`);
    expect(csvCell('\u3000=1')).toBe("'\u3000=1");
    expect(csvCell('＝1+1')).toBe("'＝1+1");
    expect(csvCell('|cmd')).toBe("'|cmd");
    expect(csvCell('  @SUM(A1)')).toBe("'  @SUM(A1)");
  });

  it('leaves ordinary text and numbers alone', () => {
    expect(csvCell('alice')).toBe('alice');
    expect(csvCell(' plain text')).toBe(' plain text');
    expect(csvCell(-5)).toBe('-5');
  });
});

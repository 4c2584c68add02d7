import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Debian's systemd-journal-remote: turns journal export format into a journal file. */
export const JOURNAL_REMOTE = '/lib/systemd/systemd-journal-remote';
export const noJournalTools = !existsSync(JOURNAL_REMOTE) || !hasJournalctl();

function hasJournalctl(): boolean {
  try {
    execFileSync('journalctl', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export interface JournalRecord {
  /** Microseconds since the epoch. */
  realtime: number;
  message: string | Buffer;
  unit?: string;
  priority?: number;
  host?: string;
  identifier?: string;
  pid?: number;
}

export const BOOT_ID = '0123456789abcdef0123456789abcdef';

/**
 * Export format (systemd's JOURNAL_EXPORT_FORMATS): KEY=value lines, a binary value as KEY,
 * newline, its size as little-endian 64 bits, the bytes and a newline; a blank line ends an
 * entry. journal-remote needs __REALTIME_TIMESTAMP, __MONOTONIC_TIMESTAMP and _BOOT_ID; it
 * numbers the entries itself (a seqnum_id per output file).
 */
export function exportFormat(records: readonly JournalRecord[]): Buffer {
  const parts: Buffer[] = [];
  const field = (k: string, v: string | Buffer) => {
    if (typeof v === 'string' && !v.includes('\n')) parts.push(Buffer.from(`${k}=${v}\n`));
    else {
      const b = typeof v === 'string' ? Buffer.from(v) : v;
      const size = Buffer.alloc(8);
      size.writeBigUInt64LE(BigInt(b.length));
      parts.push(Buffer.from(`${k}\n`), size, b, Buffer.from('\n'));
    }
  };
  for (const r of records) {
    field('__REALTIME_TIMESTAMP', String(r.realtime));
    field('__MONOTONIC_TIMESTAMP', String(r.realtime - 1_600_000_000_000_000));
    field('_BOOT_ID', BOOT_ID);
    field('_HOSTNAME', r.host ?? 'node-a');
    if (r.unit !== undefined) field('_SYSTEMD_UNIT', r.unit);
    field('PRIORITY', String(r.priority ?? 6));
    field('SYSLOG_IDENTIFIER', r.identifier ?? 'kubelet');
    field('_PID', String(r.pid ?? 4242));
    field('MESSAGE', r.message);
    parts.push(Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

/** Writes (or appends to) a journal file at `file` (must end in .journal). */
export function writeJournal(file: string, records: readonly JournalRecord[]): void {
  execFileSync(JOURNAL_REMOTE, [`--output=${file}`, '-'], { input: exportFormat(records), stdio: ['pipe', 'ignore', 'pipe'] });
}

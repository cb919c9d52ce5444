import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openJournal } from '../../../lambdas/local/journal';

describe('journal', () => {
  let dir: string;
  let file: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'taskbound-journal-'));
    file = join(dir, 'nested', 'records.jsonl');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('replays every appended record, in order, when opened again', async () => {
    const first = await openJournal<{ n: number }>(file);
    await Promise.all([1, 2, 3].map((n) => first.journal.append({ n })));
    await first.journal.close();

    const second = await openJournal<{ n: number }>(file);
    expect(second.records).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(second.journal.recordCount).toBe(3);
    await second.journal.close();
  });

  it('serialises a record when it is appended, not when it is written', async () => {
    const { journal } = await openJournal<{ state: string }>(file);
    const record = { state: 'before' };
    const written = journal.append(record);
    record.state = 'after';
    await written;
    await journal.close();

    expect((await openJournal<{ state: string }>(file)).records).toEqual([{ state: 'before' }]);
  });

  it('compacts to the live records and keeps what is appended afterwards', async () => {
    const { journal } = await openJournal<{ n: number }>(file);
    for (let n = 0; n < 10; n += 1) await journal.append({ n });
    const compacted = journal.compact([{ n: 9 }]);
    const after = journal.append({ n: 10 });
    await Promise.all([compacted, after]);
    expect(journal.recordCount).toBe(2);
    await journal.close();

    const reopened = await openJournal<{ n: number }>(file);
    expect(reopened.records).toEqual([{ n: 9 }, { n: 10 }]);
    await reopened.journal.close();
  });

  it('drops a torn last line, which was never acknowledged, and appends cleanly after it', async () => {
    const { journal } = await openJournal<{ n: number }>(file);
    await journal.append({ n: 1 });
    await journal.close();
    await writeFile(file, `${await readFile(file, 'utf8')}{"n":`);

    const reopened = await openJournal<{ n: number }>(file);
    expect(reopened.records).toEqual([{ n: 1 }]);
    await reopened.journal.append({ n: 2 });
    await reopened.journal.close();
    expect(await readFile(file, 'utf8')).toBe('{"n":1}\n{"n":2}\n');
  });

  it('keeps nothing when it has no file', async () => {
    const { journal, records } = await openJournal<{ n: number }>(undefined);
    await journal.append({ n: 1 });
    expect(records).toEqual([]);
    expect(journal.recordCount).toBe(0);
  });

  it('refuses appends once closed', async () => {
    const { journal } = await openJournal<{ n: number }>(file);
    await journal.close();
    await expect(journal.append({ n: 1 })).rejects.toThrow('journal is closed');
  });
});

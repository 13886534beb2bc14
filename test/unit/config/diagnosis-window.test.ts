// The diagnosis window: one default and one maximum for the CLI's --window and the bot's DIAGNOSIS_WINDOW.
import { EXIT, runCli } from '../../../src/cli';
import { ConfigError, readBotConfig } from '../../../src/config/bot';
import { ParseError } from '../../../src/core/errors';
import { DEPLOYED_BOT_ENV } from './bot-env';

const TOO_LONG = 'is longer than 31d; Prometheus rarely keeps more, and the chart would say little';

/** Runs `oomdoctor diagnose` up to where it would build its adapters. */
async function diagnoseWith(
  window: string,
): Promise<{ code: number; reachedAdapters: boolean; stderr: string }> {
  let reachedAdapters = false;
  let stderr = '';
  const code = await runCli(
    ['diagnose', 'shop/api-0', '--window', window],
    {},
    { stdout: () => undefined, stderr: (t) => (stderr += t) },
    {
      makeDeps: () => {
        reachedAdapters = true;
        throw new ParseError('test', 'stop here');
      },
    },
  );
  return { code, reachedAdapters, stderr };
}

describe('the diagnosis window', () => {
  it('is 24h unless set, in the bot', () => {
    expect(readBotConfig(DEPLOYED_BOT_ENV).diagnosisWindowMs).toBe(24 * 3_600_000);
  });

  it('takes 31d and refuses 32d from the CLI, in one line', async () => {
    expect((await diagnoseWith('31d')).reachedAdapters).toBe(true);
    const refused = await diagnoseWith('32d');
    expect(refused.reachedAdapters).toBe(false);
    expect(refused.code).toBe(EXIT.usage);
    expect(refused.stderr).toContain(`window 32d ${TOO_LONG}`);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('refuses 32d from the bot with the same words', () => {
    let problems: string[] = [];
    try {
      readBotConfig({ ...DEPLOYED_BOT_ENV, DIAGNOSIS_WINDOW: '32d' });
    } catch (error) {
      if (error instanceof ConfigError) problems = error.problems;
      else throw error;
    }
    expect(problems).toEqual([`DIAGNOSIS_WINDOW 32d ${TOO_LONG}`]);
  });
});

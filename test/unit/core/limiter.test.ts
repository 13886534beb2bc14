import { createLimiter } from '../../../src/core/limiter';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('createLimiter', () => {
  it('runs at most N tasks at once and the rest in arrival order', async () => {
    const limiter = createLimiter(2);
    const releases: Array<() => void> = [];
    const started: number[] = [];
    const results = [0, 1, 2, 3, 4].map((i) =>
      limiter.run(async () => {
        started.push(i);
        await new Promise<void>((resolve) => releases.push(resolve));
        return i * 10;
      }),
    );
    await tick();
    expect(started).toEqual([0, 1]);
    expect(limiter.active).toBe(2);
    expect(limiter.waiting).toBe(3);
    releases[1]!();
    await tick();
    expect(started).toEqual([0, 1, 2]);
    releases[0]!();
    releases[2]!();
    await tick();
    expect(started).toEqual([0, 1, 2, 3, 4]);
    releases[3]!();
    releases[4]!();
    await expect(Promise.all(results)).resolves.toEqual([0, 10, 20, 30, 40]);
    expect(limiter.active).toBe(0);
    expect(limiter.waiting).toBe(0);
  });

  it('frees the slot of a task that throws', async () => {
    const limiter = createLimiter(1);
    await expect(limiter.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(limiter.run(async () => 'next')).resolves.toBe('next');
    expect(limiter.active).toBe(0);
  });

  it('refuses a limiter without slots', () => {
    expect(() => createLimiter(0)).toThrow(/at least 1 slot/);
  });
});

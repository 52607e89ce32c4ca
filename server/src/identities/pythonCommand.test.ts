import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config';
import { trainCommand } from './pythonCommand';

describe('trainCommand', () => {
  const base = { source: '/data/s.mp4', out: '/data/out', resume: false };

  it('passes the wall-time budget for the source kind (defaults: clip 840 s, portrait 540 s)', () => {
    const py = loadConfig({}).onboarding.python;
    expect(trainCommand(py, { ...base, sourceKind: 'clip' }, {}).args).toEqual(
      ['-m', 'avatar_ml.student.train', '--source', '/data/s.mp4', '--out', '/data/out', '--time-budget-s', '840'],
    );
    const portrait = trainCommand(py, { ...base, resume: true, sourceKind: 'portrait' }, {}).args;
    expect(portrait.slice(-3)).toEqual(['--resume', '--time-budget-s', '540']);
  });

  it('leaves the budget out when it is 0, and keeps the extra arguments last', () => {
    const py = loadConfig({}, { onboarding: { python: { timeBudgetS: { clip: 0 }, trainArgs: ['--preset', 'fast'] } } }).onboarding.python;
    expect(trainCommand(py, { ...base, sourceKind: 'clip' }, {}).args.slice(-2)).toEqual(['--preset', 'fast']);
    expect(trainCommand(py, { ...base, sourceKind: 'clip' }, {}).args).not.toContain('--time-budget-s');
  });
});

import { isAbsolute } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config';

describe('onboarding config', () => {
  it('runs with no set-up: data in the repo\'s .data/, one training job at once, open demo', () => {
    const { onboarding } = loadConfig({});
    expect(onboarding.dataDir.endsWith('/.data')).toBe(true);
    expect(onboarding).toMatchObject({ jobConcurrency: 1, requireJoinToken: false, selfOnboarding: 'open', demo: { roomId: 'demo', identityId: 'demo' } });
    expect(onboarding.adminToken).toBeUndefined();
    expect(onboarding.python.trainArgs).toEqual([]);
  });

  it('reads the environment: paths resolved, lists split, flags parsed', () => {
    const { onboarding } = loadConfig({
      DATA_DIR: 'var/avatar',
      ADMIN_TOKEN: 'a-long-enough-admin-token',
      REQUIRE_JOIN_TOKEN: 'true',
      JOB_CONCURRENCY: '0',
      MAX_UPLOAD_BYTES: '1048576',
      TRAIN_ARGS: '--preset fast  --steps 20',
      TRAIN_PYTHONPATH: '/opt/a:/opt/b',
    });
    expect(isAbsolute(onboarding.dataDir) && onboarding.dataDir.endsWith('/var/avatar')).toBe(true);
    expect(onboarding).toMatchObject({ adminToken: 'a-long-enough-admin-token', requireJoinToken: true, jobConcurrency: 0, uploads: { maxBytes: 1048576 } });
    expect(onboarding.python.trainArgs).toEqual(['--preset', 'fast', '--steps', '20']);
    expect(onboarding.python.pythonPath).toEqual(['/opt/a', '/opt/b']);
  });

  it('names every bad onboarding variable', () => {
    try {
      loadConfig({ ADMIN_TOKEN: 'short', JOB_CONCURRENCY: 'many', SELF_ONBOARDING: 'maybe' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const text = (error as ConfigError).problems.join('\n');
      expect(text).toMatch(/ADMIN_TOKEN \(onboarding.adminToken\): ADMIN_TOKEN must be at least 16 characters/);
      expect(text).toMatch(/JOB_CONCURRENCY \(onboarding.jobConcurrency\)/);
      expect(text).toMatch(/SELF_ONBOARDING \(onboarding.selfOnboarding\)/);
    }
  });
});

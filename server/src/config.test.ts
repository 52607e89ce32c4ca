import { availableParallelism } from 'node:os';
import { isAbsolute } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config';

describe('loadConfig', () => {
  it('runs on embedded defaults with an empty environment', () => {
    const config = loadConfig({});
    expect(config.http).toEqual({ host: '0.0.0.0', port: 3000, trustProxy: false });
    expect(config.mediasoup.announcedIp).toBe('127.0.0.1');
    expect(config.mediasoup.numWorkers).toBe(availableParallelism());
    expect(config.mediasoup.rtcMinPort).toBeLessThan(config.mediasoup.rtcMaxPort);
    expect(config.clientDistDir.endsWith('client/dist')).toBe(true);
    expect(isAbsolute(config.faceLandmarkerModelPath)).toBe(true);
    expect(config.faceLandmarkerModelPath.endsWith('shared/models/face_landmarker.task')).toBe(true);
  });

  it('reads environment variables and coerces numbers', () => {
    const config = loadConfig({ PORT: '8080', ANNOUNCED_IP: '10.0.0.5', LOG_LEVEL: 'debug', NUM_WORKERS: '3' });
    expect(config.http.port).toBe(8080);
    expect(config.mediasoup.announcedIp).toBe('10.0.0.5');
    expect(config.log.level).toBe('debug');
    expect(config.mediasoup.numWorkers).toBe(3);
  });

  it('reads the admission limits and TRUST_PROXY from the environment', () => {
    const config = loadConfig({
      TRUST_PROXY: 'true',
      MAX_CONNECTIONS_PER_ADDRESS: '8',
      JOINS_PER_MINUTE_PER_CONNECTION: '12',
      ROOM_CREATIONS_PER_MINUTE_PER_ADDRESS: '6',
      MAX_ROOMS_PER_ADDRESS: '3',
    });
    expect(config.http.trustProxy).toBe(true);
    expect(config.limits).toMatchObject({ maxConnectionsPerAddress: 8, joinsPerMinutePerConnection: 12, roomCreationsPerMinutePerAddress: 6, maxRoomsPerAddress: 3 });
    expect(loadConfig({ TRUST_PROXY: '0' }).http.trustProxy).toBe(false);
    expect(() => loadConfig({ TRUST_PROXY: 'maybe' })).toThrow(/TRUST_PROXY \(http.trustProxy\)/);
  });

  it('lets code overrides win over the environment', () => {
    const config = loadConfig({ PORT: '8080' }, { http: { port: 0 }, limits: { maxPeersPerRoom: 2 } });
    expect(config.http.port).toBe(0);
    expect(config.http.host).toBe('0.0.0.0');
    expect(config.limits.maxPeersPerRoom).toBe(2);
    expect(config.limits.requestsPerSecond).toBe(50);
  });

  it('lists every bad key, by environment variable name', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud', RTC_MIN_PORT: '99' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { problems, message } = error as ConfigError;
    expect(problems).toHaveLength(3);
    expect(message).toMatch(/PORT \(http\.port\)/);
    expect(message).toMatch(/LOG_LEVEL \(log\.level\)/);
    expect(message).toMatch(/RTC_MIN_PORT \(mediasoup\.rtcMinPort\)/);
  });

  it('rejects an inverted RTC port range', () => {
    expect(() => loadConfig({ RTC_MIN_PORT: '50000', RTC_MAX_PORT: '40000' })).toThrow(/rtcMinPort must not exceed/);
  });

  it('resolves relative paths against the repository root', () => {
    const config = loadConfig({ CLIENT_DIST_DIR: 'somewhere/dist' });
    expect(isAbsolute(config.clientDistDir)).toBe(true);
    expect(config.clientDistDir.endsWith('somewhere/dist')).toBe(true);
  });
});

/**
 * `window.__call`: a small, stable handle for end-to-end tests (and curious developers in the
 * console) to drive and inspect the page without poking at the DOM. Documented in the README.
 */
import type { App, AppState } from './App';
import type { CallSession } from './call/CallSession';
import type { InboundTrackStats, OutboundTrackStats } from './call/callTypes';
import type { JoinChoice } from './ui/JoinScreen';

export interface CallTestHook {
  readonly app: App;
  /** The live session, or null outside a call. */
  readonly session: CallSession | null;
  readonly state: AppState;
  /** Text of the alert banner ('' when hidden). */
  readonly banner: string;
  join(choice: JoinChoice): Promise<void>;
  leave(): Promise<void>;
  /** Receive figures per remote track ([] outside a call). */
  inboundStats(): Promise<InboundTrackStats[]>;
  /** Send figures per local track ([] outside a call). */
  outboundStats(): Promise<OutboundTrackStats[]>;
}

declare global {
  interface Window {
    __call?: CallTestHook;
  }
}

export function installTestHook(app: App): CallTestHook {
  const hook: CallTestHook = {
    app,
    get session() {
      return app.session ?? null;
    },
    get state() {
      return app.state;
    },
    get banner() {
      return app.bannerText;
    },
    join: async (choice) => {
      await app.join(choice);
    },
    leave: () => app.leave(),
    inboundStats: async () => (app.session ? app.session.inboundStats() : []),
    outboundStats: async () => (app.session ? app.session.outboundStats() : []),
  };
  window.__call = hook;
  return hook;
}

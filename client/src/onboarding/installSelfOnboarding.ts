/**
 * Adds "Create my avatar" to the toolbar of every call (SelfOnboardingDialog), and
 * `window.__selfOnboarding` for tests: `recordSeconds` (10–20, default 15) and `open()`.
 */
import type { App } from '../App';
import { h } from '../ui/dom';
import { SelfOnboardingDialog } from './SelfOnboardingDialog';
import './selfOnboarding.css';

export interface SelfOnboardingTestHook {
  recordSeconds: number;
  open(): void;
}

declare global {
  interface Window {
    __selfOnboarding?: SelfOnboardingTestHook;
  }
}

export function installSelfOnboarding(app: App): void {
  let open: () => void = () => undefined;
  const hook: SelfOnboardingTestHook = { recordSeconds: 15, open: () => open() };
  window.__selfOnboarding = hook;
  app.on('sessionstarted', ({ session, view }) => {
    open = () => {
      const seconds = Math.min(20, Math.max(10, Math.round(hook.recordSeconds)));
      new SelfOnboardingDialog({ roomId: session.roomId, displayName: session.displayName, joinToken: new URLSearchParams(location.search).get('token') ?? undefined, recordSeconds: seconds }).open();
    };
    const button = h('button', { type: 'button', 'data-testid': 'create-avatar' }, 'Create my avatar');
    button.onclick = () => open();
    view.toolbar.add(button);
  });
}

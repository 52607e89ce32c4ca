/** Page entry: reads the room from the URL and starts the app. */
import { App } from './App';
import { installAvatarMode } from './avatar/installAvatarMode';
import { installSelfOnboarding } from './onboarding/installSelfOnboarding';
import { parseMediaQuality } from './media/mediaQuality';
import { roomIdFromPath } from './roomUrl';
import { installTestHook } from './testHook';

function requireElement(id: string): HTMLElement {
  const element = document.getElementById(id);
  if (!element) throw new Error(`index.html lacks #${id}`);
  return element;
}

const params = new URLSearchParams(window.location.search);
const app = new App({
  root: requireElement('app'),
  banner: requireElement('banner'),
  status: requireElement('status'),
  roomId: roomIdFromPath(window.location.pathname),
  quality: parseMediaQuality(params.get('quality')),
});
installTestHook(app);
installAvatarMode(app);
installSelfOnboarding(app);
app.showJoinScreen();
window.addEventListener('pagehide', () => app.session?.close());

/**
 * The demo room's address as `npm start` prints it: host (an IPv6 address in brackets) and port,
 * the port left out only where it is the scheme's default (80 for http).
 */
export function demoRoomUrl(host: string, port: string | number): string {
  const h = host.includes(':') ? `[${host}]` : host;
  return String(port) === '80' || String(port) === '' ? `http://${h}/room/demo` : `http://${h}:${port}/room/demo`;
}

/**
 * Draws the tracked landmarks over the local preview, so the user sees what is being sent.
 * The canvas sits on top of the tile's <video>, which uses `object-fit: cover` (and is
 * mirrored by CSS for the local tile): points are mapped through the same cover transform.
 */
import { h } from '../ui/dom';

const IRIS_START = 468;

export class LandmarkOverlay {
  readonly element: HTMLCanvasElement;
  #lastDrawMs = 0;

  constructor() {
    this.element = h('canvas', { class: 'landmark-overlay', 'aria-hidden': 'true' });
  }

  /** Draws one frame of landmarks (478*3, x/y normalised to a `videoWidth`×`videoHeight` image). */
  draw(landmarks: Float32Array, videoWidth: number, videoHeight: number): void {
    const canvas = this.element;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    if (width === 0 || height === 0 || videoWidth === 0 || videoHeight === 0) return;
    // Drawing 478 points costs little, but there is no need to beat the display.
    const now = performance.now();
    if (now - this.#lastDrawMs < 30) return;
    this.#lastDrawMs = now;
    const dpr = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(width * dpr) || canvas.height !== Math.round(height * dpr)) {
      canvas.width = Math.round(width * dpr);
      canvas.height = Math.round(height * dpr);
    }
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const scale = Math.max(width / videoWidth, height / videoHeight);
    const offsetX = (width - videoWidth * scale) / 2;
    const offsetY = (height - videoHeight * scale) / 2;
    const points = landmarks.length / 3;
    for (let i = 0; i < points; i += 1) {
      const x = offsetX + (landmarks[i * 3] as number) * videoWidth * scale;
      const y = offsetY + (landmarks[i * 3 + 1] as number) * videoHeight * scale;
      ctx.fillStyle = i >= IRIS_START ? 'rgb(255 200 60)' : 'rgb(80 220 160 / 0.85)';
      ctx.fillRect(x - 1, y - 1, 2, 2);
    }
  }

  clear(): void {
    const ctx = this.element.getContext('2d');
    ctx?.clearRect(0, 0, this.element.width, this.element.height);
  }

  remove(): void {
    this.element.remove();
  }
}

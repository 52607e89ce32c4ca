/** Camera capture presets, picked with `?quality=low|medium|high` (default medium). */
export type MediaQuality = 'low' | 'medium' | 'high';

export interface VideoPreset {
  width: number;
  height: number;
  frameRate: number;
}

export const videoPresets: Record<MediaQuality, VideoPreset> = {
  low: { width: 320, height: 240, frameRate: 15 },
  medium: { width: 640, height: 480, frameRate: 30 },
  high: { width: 1280, height: 720, frameRate: 30 },
};

export function parseMediaQuality(value: string | null): MediaQuality {
  return value === 'low' || value === 'high' ? value : 'medium';
}

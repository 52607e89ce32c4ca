/**
 * Job protocol of the face-api reference (models/identity/faceApiReference.ts): Python's identity
 * metric sends one job as JSON on stdin and reads one result line on stdout. It exists to verify
 * the PyTorch port of face-api's recogniser against the real face-api in Node.
 */
import { z } from 'zod';

export const DESCRIPTOR_SIZE = 128;
/** Frames bigger than this are a mistake, not a face. */
const MAX_SIDE_PX = 4096;

export const faceApiImageSchema = z.object({
  id: z.string().min(1).max(128),
  width: z.number().int().positive().max(MAX_SIDE_PX),
  height: z.number().int().positive().max(MAX_SIDE_PX),
  /** Packed RGB uint8, row-major, width*height*3 bytes, base64. */
  rgbBase64: z.string().min(1),
  /**
   * descriptor: the image is a face crop; face-api pads it to square, resizes it to 150x150 and
   * computes the descriptor (the network alone).
   * detect: the image is a frame; SSD MobileNet v1 + 68-point landmarks + dlib-style alignment +
   * descriptor, face-api's full `detectSingleFace().withFaceLandmarks().withFaceDescriptor()`.
   */
  task: z.enum(['descriptor', 'detect']),
});
export type FaceApiImage = z.infer<typeof faceApiImageSchema>;

export const faceApiJobSchema = z.object({
  /** cpu is tfjs' plain-JS float32 kernels (the reference); wasm is faster. */
  backend: z.enum(['cpu', 'wasm']).default('cpu'),
  modelDir: z.string().min(1),
  minConfidence: z.number().min(0).max(1).default(0.5),
  images: z.array(faceApiImageSchema).min(1).max(1000),
});
export type FaceApiJob = z.infer<typeof faceApiJobSchema>;

const descriptorSchema = z.array(z.number()).length(DESCRIPTOR_SIZE);
const boxSchema = z.object({ x: z.number(), y: z.number(), width: z.number(), height: z.number() });

export const faceApiFaceSchema = z.object({
  score: z.number(),
  detectionBox: boxSchema,
  /** The crop face-api's recogniser saw: alignDlib's box, clipped at the image borders. */
  alignedBox: boxSchema,
  landmarks68: z.array(z.tuple([z.number(), z.number()])).length(68),
  descriptor: descriptorSchema,
});
export type FaceApiFace = z.infer<typeof faceApiFaceSchema>;

export const faceApiResultSchema = z.discriminatedUnion('task', [
  z.object({ id: z.string(), task: z.literal('descriptor'), descriptor: descriptorSchema }),
  z.object({ id: z.string(), task: z.literal('detect'), face: faceApiFaceSchema.nullable() }),
]);
export type FaceApiResult = z.infer<typeof faceApiResultSchema>;

export const faceApiJobOutputSchema = z.object({
  backend: z.string(),
  results: z.array(faceApiResultSchema),
});
export type FaceApiJobOutput = z.infer<typeof faceApiJobOutputSchema>;

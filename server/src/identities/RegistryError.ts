import { HttpError } from '../http/HttpError';

/** A refusal from the registry or the upload checks: an HTTP status, a stable code, plain words. */
export class RegistryError extends HttpError {}

/**
 * "Create my avatar" from the call page: records 10–20 s from the camera with on-screen guidance
 * (look around, talk, smile), asks for the person's own consent, uploads the clip
 * (`POST /api/self/identities`, with the invitation's join token when the page has one) and shows
 * the training progress live (server-sent events), then the link to rejoin with the new avatar.
 */
import { apiErrorSchema, jobStatusSchema, selfUploadAcceptedSchema, type JobStatus, type SelfUploadAccepted } from '@shared/onboarding';
import { h } from '../ui/dom';

const GUIDANCE = [
  'Look straight at the camera',
  'Turn your head slowly to the left, then to the right',
  'Look up a little, then down',
  'Talk as you normally would',
  'Smile!',
];

export type SelfOnboardingOptions = { roomId: string; displayName: string; joinToken: string | undefined; recordSeconds: number };

export class SelfOnboardingDialog {
  readonly element: HTMLDialogElement;
  readonly #body = h('div', { class: 'self-body' });
  readonly #options: SelfOnboardingOptions;
  #stream: MediaStream | undefined;
  #events: EventSource | undefined;
  #closed = false;

  constructor(options: SelfOnboardingOptions) {
    this.#options = options;
    const close = h('button', { type: 'button', class: 'self-close', 'aria-label': 'close' }, '×');
    close.onclick = () => this.close();
    this.element = h('dialog', { class: 'self-onboarding', 'data-testid': 'self-dialog' }, close, h('h2', {}, 'Create my avatar'), this.#body);
    this.element.addEventListener('close', () => this.close());
    this.#intro();
  }

  open(): void {
    document.body.append(this.element);
    this.element.showModal();
  }

  /** Idempotent: stops the camera and the progress stream, removes the dialog. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#stream?.getTracks() ?? []) t.stop();
    this.#events?.close();
    if (this.element.open) this.element.close();
    this.element.remove();
  }

  #intro(): void {
    const start = h('button', { type: 'button', class: 'primary', 'data-testid': 'self-record' }, `Record ${this.#options.recordSeconds} s`);
    start.onclick = () => void this.#record().catch((e) => this.#error(e));
    this.#body.replaceChildren(
      h('p', {}, `We record ${this.#options.recordSeconds} seconds of you from your camera and train an avatar of your face from it. Sit facing a light, alone in the picture, and follow the prompts.`),
      start,
    );
  }

  async #record(): Promise<void> {
    this.#stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480, frameRate: 25 }, audio: false });
    const preview = h('video', { class: 'self-preview', autoplay: true, muted: true, playsinline: true });
    preview.srcObject = this.#stream;
    const prompt = h('p', { class: 'self-prompt', 'data-testid': 'self-prompt' }, GUIDANCE[0] as string);
    const countdown = h('p', { class: 'muted', 'data-testid': 'self-countdown' });
    this.#body.replaceChildren(preview, prompt, countdown);
    const mimeType = ['video/webm;codecs=vp8', 'video/webm;codecs=vp9', 'video/webm'].find((t) => MediaRecorder.isTypeSupported(t)) ?? '';
    const recorder = new MediaRecorder(this.#stream, { mimeType, videoBitsPerSecond: 2_500_000 });
    const chunks: Blob[] = [];
    recorder.ondataavailable = (e) => e.data.size && chunks.push(e.data);
    const stopped = new Promise<void>((resolve) => (recorder.onstop = () => resolve()));
    const total = this.#options.recordSeconds;
    recorder.start(1000);
    const started = performance.now();
    await new Promise<void>((resolve) => {
      const tick = () => {
        const elapsed = (performance.now() - started) / 1000;
        if (this.#closed) return resolve();
        prompt.textContent = GUIDANCE[Math.min(GUIDANCE.length - 1, Math.floor((elapsed / total) * GUIDANCE.length))] as string;
        countdown.textContent = `${Math.max(0, Math.ceil(total - elapsed))} s left`;
        if (elapsed >= total) resolve();
        else setTimeout(tick, 200);
      };
      tick();
    });
    recorder.stop();
    await stopped;
    for (const t of this.#stream.getTracks()) t.stop();
    if (this.#closed) return;
    this.#consent(new Blob(chunks, { type: mimeType || 'video/webm' }));
  }

  #consent(clip: Blob): void {
    const name = this.#options.displayName;
    const statement = h('textarea', { rows: '3', 'data-testid': 'self-statement' });
    statement.value = `I, ${name}, agree that this recording of my face is used to create an avatar that I (and people I allow) can drive in video calls. I can ask for it to be deleted at any time.`;
    const agreed = h('input', { type: 'checkbox', 'data-testid': 'self-agreed' });
    const submit = h('button', { type: 'button', class: 'primary', 'data-testid': 'self-submit', disabled: true }, 'Create my avatar');
    agreed.onchange = () => (submit.disabled = !agreed.checked);
    const again = h('button', { type: 'button' }, 'Record again');
    again.onclick = () => this.#intro();
    submit.onclick = () => void this.#upload(clip, statement.value).catch((e) => this.#error(e));
    this.#body.replaceChildren(
      h('p', {}, `Recorded ${(clip.size / 1e6).toFixed(1)} MB.`),
      h('label', {}, 'What you agree to', statement),
      h('label', { class: 'check' }, agreed, ` I am ${name}, the person in this recording, and I agree.`),
      h('div', { class: 'self-actions' }, again, submit),
    );
  }

  async #upload(clip: Blob, statement: string): Promise<void> {
    const name = this.#options.displayName;
    const form = new FormData();
    form.set('displayName', name);
    form.set('consent', JSON.stringify({ subjectName: name, uploadedBy: name, statement, agreed: true }));
    form.set('file', clip, 'my-avatar.webm');
    const sent = h('progress', { max: '1', value: '0' });
    this.#body.replaceChildren(h('p', { 'data-testid': 'self-status' }, 'Uploading and checking your face…'), sent);
    const res = await new Promise<{ status: number; body: unknown }>((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', `/api/self/identities?room=${encodeURIComponent(this.#options.roomId)}`);
      if (this.#options.joinToken) xhr.setRequestHeader('Authorization', `Bearer ${this.#options.joinToken}`);
      xhr.upload.onprogress = (e) => e.lengthComputable && (sent.value = e.loaded / e.total);
      xhr.onerror = () => reject(new Error('the upload failed (network)'));
      xhr.onload = () => {
        let body: unknown = null;
        try {
          body = JSON.parse(xhr.responseText);
        } catch {
          /* not JSON */
        }
        resolve({ status: xhr.status, body });
      };
      xhr.send(form);
    });
    if (res.status !== 201) {
      const err = apiErrorSchema.safeParse(res.body);
      throw new Error(err.success ? err.data.error.message : `the upload failed (${res.status})`);
    }
    this.#progress(selfUploadAcceptedSchema.parse(res.body));
  }

  #progress(accepted: SelfUploadAccepted): void {
    const bar = h('progress', { max: '1', value: '0', 'data-testid': 'self-progress' });
    const percent = h('span', { 'data-testid': 'self-percent' }, '0%');
    const status = h('p', { 'data-testid': 'self-status' }, 'Waiting for a free trainer…');
    const preview = h('img', { class: 'self-preview', alt: 'training preview', hidden: true });
    this.#body.replaceChildren(status, h('div', { class: 'self-actions' }, bar, percent), preview);
    const key = encodeURIComponent(accepted.jobKey);
    this.#events = new EventSource(`/api/self/jobs/${accepted.jobId}/events?key=${key}`);
    this.#events.addEventListener('job', (event) => {
      const job = jobStatusSchema.safeParse(JSON.parse((event as MessageEvent<string>).data));
      if (!job.success) return;
      this.#showJob(job.data, { bar, percent, status, preview }, accepted, key);
    });
  }

  #showJob(job: JobStatus, ui: { bar: HTMLProgressElement; percent: HTMLElement; status: HTMLElement; preview: HTMLImageElement }, accepted: SelfUploadAccepted, key: string): void {
    ui.bar.value = job.progress;
    ui.percent.textContent = `${Math.round(job.progress * 100)}%`;
    if (job.previewUrl) {
      ui.preview.hidden = false;
      ui.preview.src = `/api/self/jobs/${job.id}/preview.png?key=${key}&t=${Date.now()}`;
    }
    if (job.state === 'queued') ui.status.textContent = job.queuePosition ? `Waiting: ${job.queuePosition} ahead of you` : 'Starting…';
    else if (job.state === 'running') ui.status.textContent = `Training your avatar: ${job.stage ?? ''}${job.etaS !== null ? `, about ${Math.ceil(job.etaS / 60)} min left` : ''}`;
    else if (job.state === 'failed' || job.state === 'cancelled') {
      this.#events?.close();
      ui.status.textContent = `It did not work: ${job.error?.message ?? job.state}`;
    } else if (job.state === 'succeeded') {
      this.#events?.close();
      const url = `${location.origin}/room/${encodeURIComponent(accepted.roomId)}?token=${accepted.token}`;
      ui.status.replaceChildren(
        'Your avatar is ready. ',
        h('a', { href: url, 'data-testid': 'self-link' }, 'Rejoin with it'),
        ' (keep this link: it lets you drive your avatar in this room for 7 days).',
      );
    }
  }

  #error(error: unknown): void {
    const retry = h('button', { type: 'button' }, 'Try again');
    retry.onclick = () => this.#intro();
    this.#body.replaceChildren(h('p', { class: 'self-error', role: 'alert', 'data-testid': 'self-error' }, error instanceof Error ? error.message : String(error)), retry);
  }
}

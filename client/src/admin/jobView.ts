/**
 * The live job panel: progress bar, stage and step, ETA, loss, the latest preview frame and the
 * failure reason, updated from server-sent events (`update(job)`), with cancel and retry.
 */
import type { JobStatus } from '@shared/onboarding';
import { h } from '../ui/dom';

const stageNames: Record<string, string> = {
  prepare: 'Checking the source',
  landmarks: 'Tracking the face',
  teacher: 'Rendering teacher frames',
  train: 'Training',
  export: 'Exporting the model',
  evaluate: 'Checking quality gates',
};

export function formatEta(seconds: number | null): string {
  if (seconds === null) return 'estimating…';
  if (seconds < 60) return `${Math.round(seconds)} s left`;
  const m = Math.floor(seconds / 60);
  return `${m} min ${Math.round(seconds - m * 60)} s left`;
}

export class JobView {
  readonly element: HTMLElement;
  readonly #bar: HTMLProgressElement;
  readonly #percent = h('span', { class: 'job-percent', 'data-testid': 'job-percent' });
  readonly #state = h('span', { class: 'job-state', 'data-testid': 'job-state' });
  readonly #stage = h('span', { class: 'job-stage', 'data-testid': 'job-stage' });
  readonly #eta = h('span', { class: 'job-eta', 'data-testid': 'job-eta' });
  readonly #error = h('p', { class: 'job-error', role: 'alert', hidden: true });
  readonly #preview = h('img', { class: 'job-preview', alt: 'latest training preview (real | student)', hidden: true, 'data-testid': 'job-preview' });
  readonly #cancel = h('button', { type: 'button' }, 'Cancel');
  readonly #retry = h('button', { type: 'button', class: 'primary' }, 'Retry');
  job: JobStatus;

  constructor(job: JobStatus, actions: { cancel: () => void; retry: () => void }) {
    this.job = job;
    this.#bar = h('progress', { max: '1', value: '0', 'data-testid': 'job-progress', 'aria-label': 'training progress' });
    this.#cancel.onclick = actions.cancel;
    this.#retry.onclick = actions.retry;
    this.element = h(
      'section',
      { class: 'job', 'data-job': job.id },
      h('div', { class: 'job-line' }, this.#state, this.#stage, this.#eta),
      h('div', { class: 'job-line' }, this.#bar, this.#percent),
      this.#error,
      this.#preview,
      h('div', { class: 'job-actions' }, this.#cancel, this.#retry, h('a', { href: `/api/jobs/${job.id}/log`, target: '_blank' }, 'log')),
    );
    this.update(job);
  }

  update(job: JobStatus): void {
    this.job = job;
    this.#bar.value = job.progress;
    this.#percent.textContent = `${Math.round(job.progress * 100)}%`;
    this.#state.textContent = job.state === 'queued' && job.queuePosition !== null ? `queued (${job.queuePosition} ahead)` : job.state;
    this.#state.dataset.state = job.state;
    const stage = job.stage ? stageNames[job.stage] ?? job.stage : '';
    const step = job.step && job.stage === 'train' ? ` · step ${job.step.step} of ${job.step.total}` : '';
    this.#stage.textContent = job.state === 'running' ? `${stage}${step}${job.loss !== null ? ` · loss ${job.loss.toFixed(3)}` : ''}` : '';
    this.#eta.textContent = job.state === 'running' ? formatEta(job.etaS) : '';
    this.#error.hidden = !job.error;
    this.#error.textContent = job.error ? `${job.error.message} (${job.error.code})` : '';
    if (job.previewUrl) {
      this.#preview.hidden = false;
      if (this.#preview.getAttribute('src') !== job.previewUrl) this.#preview.src = job.previewUrl;
    }
    this.#cancel.hidden = !(job.state === 'queued' || job.state === 'running');
    this.#retry.hidden = !(job.state === 'failed' || job.state === 'cancelled');
  }
}

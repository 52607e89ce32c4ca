/**
 * The admin pages (`/admin`): sign-in with the admin token, the identity list with the upload form
 * (file + consent record), an identity page (consent, source, versions with gate tables and
 * previews, publish / override / rollback / delete, grants and join links, jobs with live
 * progress, audit trail). Routes are hashes: `#/` and `#/identity/<id>`. Job changes arrive as
 * server-sent events and update every job panel in place; pages re-read their data when a job
 * of theirs ends.
 */
import type { IdentityDetail, JobStatus, VersionInfo } from '@shared/onboarding';
import { h } from '../ui/dom';
import { adminApi, AdminApiError, watchJobs } from './adminApi';
import { gateTable } from './gateTable';
import { JobView } from './jobView';

const DEFAULT_STATEMENT =
  'I agree that this recording of my face is used to create an avatar that participants I grant may drive in video calls. I can ask for it to be deleted at any time.';

export class AdminApp {
  readonly #root: HTMLElement;
  readonly #banner: HTMLElement;
  readonly #status: HTMLElement;
  readonly #jobViews = new Map<string, JobView>();
  #stopEvents: (() => void) | undefined;
  #onJobEnded: ((job: JobStatus) => void) | undefined;

  constructor(root: HTMLElement, banner: HTMLElement, status: HTMLElement) {
    this.#root = root;
    this.#banner = banner;
    this.#status = status;
    window.addEventListener('hashchange', () => void this.route());
  }

  async start(): Promise<void> {
    try {
      await adminApi.identities();
      this.#connected();
      await this.route();
    } catch (error) {
      if (error instanceof AdminApiError && error.status === 401) this.#showLogin();
      else this.#fail(error);
    }
  }

  #connected(): void {
    this.#status.textContent = 'Signed in';
    this.#stopEvents?.();
    this.#stopEvents = watchJobs(
      (job) => {
        this.#jobViews.get(job.id)?.update(job);
        if (job.state === 'succeeded' || job.state === 'failed' || job.state === 'cancelled') this.#onJobEnded?.(job);
      },
      () => (this.#status.textContent = 'Live updates reconnecting…'),
    );
  }

  #showLogin(): void {
    const token = h('input', { type: 'password', name: 'token', required: true, autocomplete: 'current-password', 'data-testid': 'admin-token' });
    const form = h('form', { class: 'panel login' }, h('h1', {}, 'Sign in'), h('label', {}, 'Admin token', token), h('button', { type: 'submit', class: 'primary' }, 'Sign in'));
    form.onsubmit = async (e) => {
      e.preventDefault();
      try {
        await adminApi.login(token.value.trim());
        this.#connected();
        await this.route();
      } catch (error) {
        this.#fail(error);
      }
    };
    this.#root.replaceChildren(form);
  }

  async route(): Promise<void> {
    this.#banner.hidden = true;
    this.#jobViews.clear();
    this.#onJobEnded = undefined;
    const m = /^#\/identity\/([a-z0-9_-]+)/.exec(location.hash);
    try {
      if (m) await this.#identityPage(m[1] as string);
      else await this.#listPage();
    } catch (error) {
      if (error instanceof AdminApiError && error.status === 401) this.#showLogin();
      else this.#fail(error);
    }
  }

  #fail(error: unknown): void {
    this.#banner.hidden = false;
    this.#banner.textContent = error instanceof Error ? error.message : String(error);
  }

  #jobView(job: JobStatus): HTMLElement {
    const view = new JobView(job, {
      cancel: () => void adminApi.cancelJob(job.id).then((j) => view.update(j), (e) => this.#fail(e)),
      retry: () => void adminApi.retryJob(job.id).then((j) => view.update(j), (e) => this.#fail(e)),
    });
    this.#jobViews.set(job.id, view);
    return view.element;
  }

  // ------------------------------------------------------------------ list + upload

  async #listPage(): Promise<void> {
    const { identities } = await adminApi.identities();
    const rows = identities.map((i) =>
      h(
        'tr',
        { 'data-identity': i.id },
        h('td', {}, h('a', { href: `#/identity/${i.id}` }, i.displayName)),
        h('td', {}, i.id),
        h('td', {}, i.publishedVersion === null ? '—' : `v${i.publishedVersion}`),
        h('td', {}, String(i.versions)),
        h('td', {}, i.latestJob ? this.#jobView(i.latestJob) : '—'),
      ),
    );
    this.#root.replaceChildren(
      this.#uploadForm(),
      h(
        'section',
        { class: 'panel' },
        h('h2', {}, 'Identities'),
        identities.length === 0
          ? h('p', { class: 'muted' }, 'None yet: upload a portrait or a short clip above.')
          : h('table', { class: 'list', 'data-testid': 'identity-list' }, h('thead', {}, h('tr', {}, h('th', {}, 'name'), h('th', {}, 'id'), h('th', {}, 'published'), h('th', {}, 'versions'), h('th', {}, 'latest job'))), h('tbody', {}, ...rows)),
      ),
    );
    this.#onJobEnded = () => void this.route();
  }

  #uploadForm(): HTMLElement {
    const file = h('input', { type: 'file', name: 'file', required: true, accept: 'image/jpeg,image/png,image/webp,video/mp4,video/webm,video/quicktime', 'data-testid': 'upload-file' });
    const displayName = h('input', { name: 'displayName', required: true, maxlength: '64', 'data-testid': 'upload-name' });
    const subjectName = h('input', { name: 'subjectName', required: true, maxlength: '128', 'data-testid': 'consent-subject' });
    const uploadedBy = h('input', { name: 'uploadedBy', required: true, maxlength: '128', 'data-testid': 'consent-uploader' });
    const statement = h('textarea', { name: 'statement', required: true, rows: '3', maxlength: '2000', 'data-testid': 'consent-statement' });
    statement.value = DEFAULT_STATEMENT;
    const agreed = h('input', { type: 'checkbox', name: 'agreed', required: true, 'data-testid': 'consent-agreed' });
    const submit = h('button', { type: 'submit', class: 'primary', 'data-testid': 'upload-submit' }, 'Upload and train');
    const sent = h('progress', { max: '1', value: '0', hidden: true });
    const message = h('p', { class: 'form-message', role: 'status', 'data-testid': 'upload-message' });
    const form = h(
      'form',
      { class: 'panel upload', 'data-testid': 'upload-form' },
      h('h2', {}, 'New identity'),
      h('p', { class: 'muted' }, 'A portrait (JPEG, PNG, WebP) or a clip of 10–20 s (MP4, WebM, MOV; at most 60 s) showing exactly one face, large and well lit.'),
      h('label', {}, 'Portrait or clip', file),
      h('label', {}, 'Display name', displayName),
      h('fieldset', {}, h('legend', {}, 'Consent record'), h('label', {}, 'Person shown', subjectName), h('label', {}, 'Uploaded by', uploadedBy), h('label', {}, 'Statement the person agreed to', statement), h('label', { class: 'check' }, agreed, 'The person shown has agreed to this statement.')),
      h('div', { class: 'job-actions' }, submit, sent),
      message,
    );
    form.onsubmit = async (e) => {
      e.preventDefault();
      const chosen = file.files?.[0];
      if (!chosen) return;
      submit.disabled = true;
      sent.hidden = false;
      message.textContent = 'Uploading…';
      try {
        const accepted = await adminApi.upload(
          { file: chosen, fileName: chosen.name, displayName: displayName.value, consent: { subjectName: subjectName.value, uploadedBy: uploadedBy.value, statement: statement.value, agreed: true } },
          (f) => {
            sent.value = f;
            if (f >= 1) message.textContent = 'Checking the face…';
          },
        );
        location.hash = `#/identity/${accepted.identityId}`;
      } catch (error) {
        message.textContent = error instanceof AdminApiError ? `Refused: ${error.message}` : String(error);
        message.dataset.kind = 'error';
      } finally {
        submit.disabled = false;
        sent.hidden = true;
      }
    };
    return form;
  }

  // ------------------------------------------------------------------ identity page

  async #identityPage(id: string): Promise<void> {
    const detail = await adminApi.identity(id);
    const c = detail.consent;
    this.#root.replaceChildren(
      h('p', {}, h('a', { href: '#/' }, '← all identities')),
      h(
        'section',
        { class: 'panel' },
        h('h1', { 'data-testid': 'identity-name' }, detail.displayName),
        h('p', { class: 'muted' }, `${detail.id} · ${detail.source.kind} ${detail.source.width}×${detail.source.height}${detail.source.durationS ? `, ${detail.source.durationS.toFixed(1)} s` : ''}${detail.source.rotation ? `, rotated ${detail.source.rotation}°` : ''} · published: ${detail.publishedVersion === null ? 'none' : `v${detail.publishedVersion}`}`),
        h('h3', {}, 'Consent'),
        h('dl', { class: 'consent', 'data-testid': 'consent' }, h('dt', {}, 'Person'), h('dd', {}, c.subjectName), h('dt', {}, 'Uploaded by'), h('dd', {}, c.uploadedBy), h('dt', {}, 'Statement'), h('dd', {}, c.statement), h('dt', {}, 'Recorded'), h('dd', {}, `${new Date(c.recordedAt).toLocaleString()} (${c.method === 'self' ? 'by the person' : 'by an operator'})`)),
        h('div', { class: 'job-actions' }, this.#button('Train again', '', async () => {
          await adminApi.retrain(id);
          await this.route();
        }), this.#button('Delete identity', 'danger', async () => {
          if (!confirm(`Delete ${detail.displayName} and every version and file?`)) return;
          await adminApi.deleteIdentity(id);
          location.hash = '#/';
        })),
      ),
      h('section', { class: 'panel' }, h('h2', {}, 'Jobs'), ...detail.jobs.slice().reverse().map((j) => this.#jobView(j))),
      h('section', { class: 'panel' }, h('h2', {}, 'Versions'), ...(detail.versionList.length ? detail.versionList.slice().reverse().map((v) => this.#versionPanel(detail, v)) : [h('p', { class: 'muted' }, 'No version yet: it appears when training succeeds.')])),
      this.#grantsPanel(detail),
      await this.#auditPanel(id),
    );
    this.#onJobEnded = (job) => job.identityId === id && void this.route();
  }

  #button(label: string, kind: string, action: () => Promise<void>, testid?: string): HTMLButtonElement {
    const b = h('button', { type: 'button', class: kind, ...(testid ? { 'data-testid': testid } : {}) }, label);
    b.onclick = async () => {
      b.disabled = true;
      try {
        await action();
      } catch (error) {
        this.#fail(error);
      } finally {
        b.disabled = false;
      }
    };
    return b;
  }

  #versionPanel(detail: IdentityDetail, v: VersionInfo): HTMLElement {
    const id = detail.id;
    const actions: HTMLElement[] = [];
    if (!v.published) {
      if (v.gates.passed) {
        actions.push(this.#button(detail.publishedVersion !== null && v.version < detail.publishedVersion ? 'Roll back to this version' : 'Publish', 'primary', async () => {
          if (detail.publishedVersion !== null && v.version < detail.publishedVersion) await adminApi.rollback(id, v.version);
          else await adminApi.publish(id, v.version);
          await this.route();
        }, `publish-v${v.version}`));
      } else {
        const reason = h('input', { placeholder: 'Why publish a version that failed its gates? (audited)', minlength: '10', 'data-testid': `override-v${v.version}` });
        actions.push(reason, this.#button('Publish anyway (override)', 'danger', async () => {
          await adminApi.publish(id, v.version, reason.value);
          await this.route();
        }, `publish-v${v.version}`));
      }
    }
    actions.push(this.#button('Delete version', '', async () => {
      if (!confirm(`Delete version ${v.version} and its files?${v.published ? ' It is published: live sessions keep it until they end, new ones get nothing until another is published.' : ''}`)) return;
      await adminApi.deleteVersion(id, v.version);
      await this.route();
    }));
    const preview = v.previewUrl ? h('img', { class: 'version-preview', src: v.previewUrl, alt: `version ${v.version} preview` }) : h('p', { class: 'muted' }, 'no preview');
    if (preview instanceof HTMLImageElement) {
      // The preview may be a video: swap in a <video> when it is not an image.
      preview.onerror = () => preview.replaceWith(h('video', { class: 'version-preview', src: v.previewUrl as string, controls: true, loop: true, muted: true }));
    }
    return h(
      'article',
      { class: `version ${v.published ? 'published' : ''}`, 'data-version': String(v.version) },
      h('h3', {}, `Version ${v.version}${v.published ? ' · published' : ''}`),
      h('p', { class: 'muted' }, `${new Date(v.createdAt).toLocaleString()} · ${v.training.steps} steps in ${Math.round(v.training.wallTimeS)} s · ${(v.model.flopsPerFrame / 1e9).toFixed(2)} GFLOPs/frame · ${v.model.outputSize}px${v.overrideReason ? ` · published by override: “${v.overrideReason}”` : ''}`),
      gateTable(v.gates),
      preview,
      v.reportUrl ? h('p', {}, h('a', { href: v.reportUrl, target: '_blank' }, 'full gate report')) : '',
      h('div', { class: 'job-actions' }, ...actions),
    );
  }

  #grantsPanel(detail: IdentityDetail): HTMLElement {
    const roomId = h('input', { placeholder: 'room id or *', required: true, pattern: '\\*|[A-Za-z0-9_-]{1,64}', 'data-testid': 'grant-room' });
    const participant = h('input', { placeholder: 'display name or * (anyone with a token)', value: '*', 'data-testid': 'grant-participant' });
    const add = h('form', { class: 'inline' }, roomId, participant, h('button', { type: 'submit' }, 'Grant'));
    add.onsubmit = async (e) => {
      e.preventDefault();
      try {
        await adminApi.addGrant(detail.id, { roomId: roomId.value.trim(), participant: participant.value.trim() || '*' });
        await this.route();
      } catch (error) {
        this.#fail(error);
      }
    };
    const tokenRoom = h('input', { placeholder: 'room id', required: true, 'data-testid': 'token-room' });
    const tokenName = h('input', { placeholder: 'participant display name', required: true, 'data-testid': 'token-name' });
    const link = h('output', { class: 'token-link', 'data-testid': 'token-link' });
    const issue = h('form', { class: 'inline' }, tokenRoom, tokenName, h('button', { type: 'submit' }, 'Make a join link (24 h)'), link);
    issue.onsubmit = async (e) => {
      e.preventDefault();
      try {
        const { token, expiresAt } = await adminApi.issueToken({ roomId: tokenRoom.value.trim(), displayName: tokenName.value.trim(), identities: [detail.id], ttlS: 24 * 3600 });
        const url = `${location.origin}/room/${encodeURIComponent(tokenRoom.value.trim())}?token=${token}`;
        link.replaceChildren(h('a', { href: url }, url), ` (expires ${new Date(expiresAt).toLocaleString()})`);
      } catch (error) {
        this.#fail(error);
      }
    };
    return h(
      'section',
      { class: 'panel' },
      h('h2', {}, 'Who may drive this face'),
      detail.grants.length
        ? h('ul', { class: 'grants' }, ...detail.grants.map((g) => h('li', {}, `room ${g.roomId === '*' ? 'any' : g.roomId}, ${g.participant === '*' ? 'anyone with a join token naming it' : g.participant} `, this.#button('Revoke', '', async () => {
            await adminApi.removeGrant(detail.id, { roomId: g.roomId, participant: g.participant });
            await this.route();
          }))))
        : h('p', { class: 'muted' }, 'Nobody yet.'),
      add,
      h('h3', {}, 'Invite a participant'),
      issue,
    );
  }

  async #auditPanel(id: string): Promise<HTMLElement> {
    const { entries } = await adminApi.audit(id);
    return h(
      'section',
      { class: 'panel' },
      h('h2', {}, 'Audit trail'),
      h('ul', { class: 'audit' }, ...entries.map((e) => h('li', {}, `${new Date(e.at).toLocaleString()} · ${e.actor} · ${e.action}${Object.keys(e.detail).length ? ` · ${JSON.stringify(e.detail)}` : ''}`))),
    );
  }
}

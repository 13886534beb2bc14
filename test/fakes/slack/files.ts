// File uploads in the fake Slack workspace, Slack's two-step flow: files.getUploadURLExternal hands out an
// upload_url on the fake's own server, the bytes arrive there (receiveUpload), and
// files.completeUploadExternal stores the file and shares it into a channel or thread. Separate because the
// pending uploads and the file objects concern nothing else.

import { randomUUID } from 'node:crypto';
import { channelById, requireMember } from './channels';
import { SlackApiError, invalidArguments, isObject, str, type Answer, type Args } from './wire';
import {
  nextId,
  nextTs,
  type ChannelState,
  type FakeMessage,
  type PendingUpload,
  type UploadedFile,
  type WorkspaceState,
} from './workspace-state';

const MIME_TYPES: Readonly<Record<string, string>> = {
  txt: 'text/plain',
  log: 'text/plain',
  md: 'text/markdown',
  json: 'application/json',
  yaml: 'application/x-yaml',
  yml: 'application/x-yaml',
  csv: 'text/csv',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  svg: 'image/svg+xml',
  pdf: 'application/pdf',
};

/** Stores the bytes POSTed to an upload_url; the file id, or undefined when the URL names no pending upload. */
export function receiveUpload(
  state: WorkspaceState,
  key: string,
  bytes: Buffer | undefined,
): string | undefined {
  const upload = [...state.uploads.values()].find((u) => u.key === key);
  if (upload && bytes !== undefined) upload.bytes = bytes;
  return upload?.id;
}

export function getUploadUrl(state: WorkspaceState, args: Args): Answer {
  const filename = str(args, 'filename');
  const lengthText = str(args, 'length');
  const messages: string[] = [];
  if (filename === undefined) messages.push('[ERROR] missing required field: filename');
  if (lengthText === undefined) messages.push('[ERROR] missing required field: length');
  const length = Number(lengthText);
  if (lengthText !== undefined && (!Number.isInteger(length) || length < 1))
    messages.push('[ERROR] must be a positive integer [json-pointer:/length]');
  if (messages.length > 0) throw invalidArguments(...messages);
  const upload: PendingUpload = {
    id: nextId(state, 'F'),
    key: randomUUID().replace(/-/g, ''),
    filename: filename!,
    length,
  };
  state.uploads.set(upload.id, upload);
  return { upload_url: `${state.origin}/upload/v1/${upload.key}`, file_id: upload.id };
}

export function completeUpload(state: WorkspaceState, args: Args): Answer {
  const files = args.files;
  if (
    !Array.isArray(files) ||
    files.length === 0 ||
    !files.every((f) => isObject(f) && typeof f.id === 'string')
  ) {
    throw invalidArguments('[ERROR] missing required field: files');
  }
  const channelId = str(args, 'channel_id') ?? str(args, 'channels');
  let channel: ChannelState | undefined;
  if (channelId !== undefined) {
    channel = channelById(state, channelId);
    requireMember(state, channel);
  }
  const threadTs = str(args, 'thread_ts');
  const entries = files as Array<{ id: string; title?: unknown }>;
  const pending = entries.map((f) => {
    const upload = state.uploads.get(f.id);
    if (!upload || upload.bytes === undefined) throw new SlackApiError('file_not_found');
    return {
      upload,
      bytes: upload.bytes,
      title: typeof f.title === 'string' && f.title !== '' ? f.title : undefined,
    };
  });
  const now = Math.floor(Date.now() / 1000);
  const out: Answer[] = [];
  for (const { upload, bytes, title } of pending) {
    state.uploads.delete(upload.id);
    const stored: UploadedFile = { id: upload.id, filename: upload.filename, bytes };
    if (title !== undefined) stored.title = title;
    if (channel) stored.channel = channel.id;
    if (channel && threadTs !== undefined) stored.thread_ts = threadTs;
    state.files.push(stored);
    const ext = upload.filename.includes('.') ? upload.filename.split('.').pop()!.toLowerCase() : '';
    out.push({
      id: upload.id,
      created: now,
      timestamp: now,
      name: upload.filename,
      title: title ?? upload.filename,
      mimetype: MIME_TYPES[ext] ?? 'application/octet-stream',
      filetype: ext || 'binary',
      user: state.botUserId,
      user_team: state.teamId,
      editable: false,
      size: bytes.length,
      mode: 'hosted',
      is_external: false,
      external_type: '',
      is_public: channel !== undefined && !channel.is_private,
      public_url_shared: false,
      url_private: `${state.origin}/files-pri/${state.teamId}-${upload.id}/${encodeURIComponent(upload.filename)}`,
      url_private_download: `${state.origin}/files-pri/${state.teamId}-${upload.id}/download/${encodeURIComponent(upload.filename)}`,
      permalink: `https://fake-workspace.slack.com/files/${state.botUserId}/${upload.id}/${encodeURIComponent(upload.filename)}`,
      // Sharing into the channel happens asynchronously on the real API, so these start empty.
      channels: [],
      groups: [],
      ims: [],
      shares: {},
      comments_count: 0,
    });
  }
  // Shared into a conversation, the files appear there as a message of the bot's (in the thread, with thread_ts).
  if (channel) {
    const message: FakeMessage = {
      channel: channel.id,
      ts: nextTs(state),
      text: str(args, 'initial_comment') ?? '',
      user: state.botUserId,
      edits: 0,
      files: pending.map(({ upload, title }) => ({
        id: upload.id,
        name: upload.filename,
        title: title ?? upload.filename,
      })),
    };
    if (threadTs !== undefined) message.thread_ts = threadTs;
    state.messages.push(message);
  }
  return { files: out };
}

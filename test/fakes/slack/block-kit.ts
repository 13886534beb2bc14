// Block Kit validation in the fake Slack API: the limits the real API enforces and a bot is likely to hit
// (50 blocks a message, 100 a view, 3000 characters a section text, 150 a header, 24 a modal title).

import { isObject } from './wire';

const BLOCK_TYPES = new Set([
  'actions',
  'context',
  'context_actions',
  'divider',
  'file',
  'header',
  'image',
  'input',
  'markdown',
  'rich_text',
  'section',
  'table',
  'video',
]);

/** "[ERROR] <problem> [json-pointer:/blocks/0/text/text]" messages, as in Slack's response_metadata.messages. */
export function blockErrors(blocks: unknown, pointer: string, maxBlocks: number): string[] {
  const errors: string[] = [];
  const err = (message: string, at: string): void => {
    errors.push(`[ERROR] ${message} [json-pointer:${at}]`);
  };
  if (!Array.isArray(blocks)) {
    err('must be an array', pointer);
    return errors;
  }
  if (blocks.length > maxBlocks) err(`no more than ${maxBlocks} items allowed`, pointer);
  const textObject = (value: unknown, at: string, max: number, plainOnly = false): void => {
    if (!isObject(value)) return err('must be an object', at);
    if (value.type !== 'plain_text' && (plainOnly || value.type !== 'mrkdwn')) {
      return err(`must be ${plainOnly ? "'plain_text'" : "'plain_text' or 'mrkdwn'"}`, `${at}/type`);
    }
    if (typeof value.text !== 'string') return err('missing required field: text', `${at}/text`);
    if (value.text.length === 0) err('must be more than 0 characters', `${at}/text`);
    if (value.text.length > max) err(`must be less than ${max + 1} characters`, `${at}/text`);
  };
  const blockIds = new Set<string>();
  blocks.forEach((block: unknown, i) => {
    const at = `${pointer}/${i}`;
    if (!isObject(block)) return err('must be an object', at);
    if (typeof block.type !== 'string') return err('missing required field: type', at);
    if (!BLOCK_TYPES.has(block.type)) return err(`unsupported type: ${block.type}`, `${at}/type`);
    if (block.block_id !== undefined) {
      if (typeof block.block_id !== 'string' || block.block_id.length > 255)
        err('must be a string of at most 255 characters', `${at}/block_id`);
      else if (blockIds.has(block.block_id)) err(`duplicate block_id: ${block.block_id}`, `${at}/block_id`);
      else blockIds.add(block.block_id);
    }
    const elements = (min: number, max: number): void => {
      if (!Array.isArray(block.elements)) return err('missing required field: elements', at);
      if (block.elements.length < min) err(`must provide at least ${min} items`, `${at}/elements`);
      if (block.elements.length > max) err(`no more than ${max} items allowed`, `${at}/elements`);
    };
    switch (block.type) {
      case 'section':
        if (block.text === undefined && block.fields === undefined)
          err('must provide either text or fields', at);
        if (block.text !== undefined) textObject(block.text, `${at}/text`, 3000);
        if (block.fields !== undefined) {
          if (!Array.isArray(block.fields)) err('must be an array', `${at}/fields`);
          else {
            if (block.fields.length > 10) err('no more than 10 items allowed', `${at}/fields`);
            block.fields.forEach((f: unknown, j) => textObject(f, `${at}/fields/${j}`, 2000));
          }
        }
        break;
      case 'header':
        textObject(block.text, `${at}/text`, 150, true);
        break;
      case 'context':
        elements(1, 10);
        break;
      case 'actions':
        elements(1, 25);
        break;
      case 'rich_text':
        elements(0, Infinity);
        break;
      case 'input':
        textObject(block.label, `${at}/label`, 2000, true);
        if (!isObject(block.element)) err('missing required field: element', at);
        break;
      case 'image':
        if (typeof block.image_url !== 'string' && !isObject(block.slack_file))
          err('must provide either image_url or slack_file', at);
        if (typeof block.alt_text !== 'string') err('missing required field: alt_text', at);
        break;
      case 'markdown':
        if (typeof block.text !== 'string') err('missing required field: text', at);
        else if (block.text.length > 12000) err('must be less than 12001 characters', `${at}/text`);
        break;
    }
  });
  return errors;
}

export function viewErrors(view: unknown): string[] {
  if (!isObject(view)) return ['[ERROR] must be an object [json-pointer:/view]'];
  const errors: string[] = [];
  const err = (message: string, at: string): void => {
    errors.push(`[ERROR] ${message} [json-pointer:/view${at}]`);
  };
  if (view.type !== 'modal' && view.type !== 'home') {
    err(
      view.type === undefined ? 'missing required field: type' : `unsupported type: ${String(view.type)}`,
      '/type',
    );
    return errors;
  }
  const plain = (value: unknown, at: string, max: number): void => {
    if (!isObject(value) || value.type !== 'plain_text' || typeof value.text !== 'string') {
      return err("must be a 'plain_text' text object", at);
    }
    if (value.text.length === 0) err('must be more than 0 characters', `${at}/text`);
    if (value.text.length > max) err(`must be less than ${max + 1} characters`, `${at}/text`);
  };
  if (view.type === 'modal') {
    if (view.title === undefined) err('missing required field: title', '');
    else plain(view.title, '/title', 24);
    if (view.submit !== undefined) plain(view.submit, '/submit', 24);
    if (view.close !== undefined) plain(view.close, '/close', 24);
  }
  if (view.blocks === undefined) err('missing required field: blocks', '');
  else {
    errors.push(...blockErrors(view.blocks, '/view/blocks', 100));
    const hasInput = Array.isArray(view.blocks) && view.blocks.some((b) => isObject(b) && b.type === 'input');
    if (view.type === 'modal' && hasInput && view.submit === undefined)
      err('must provide a submit property when using input blocks', '');
  }
  if (typeof view.private_metadata === 'string' && view.private_metadata.length > 3000)
    err('must be less than 3001 characters', '/private_metadata');
  if (typeof view.callback_id === 'string' && view.callback_id.length > 255)
    err('must be less than 256 characters', '/callback_id');
  return errors;
}

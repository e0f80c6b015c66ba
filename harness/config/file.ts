/**
 * Reading an experiment config file: JSON (`.json`) or YAML (`.yaml`, `.yml`), chosen by the
 * extension. The result is the raw partial config (a plain object) that the CLI layers over the
 * profile before validating it with the schema; this file only turns text into that object and
 * names the file, line and column when the text does not parse.
 */
import { existsSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parseDocument } from 'yaml';
import { UserError } from '../core/errors.js';

export const CONFIG_EXTENSIONS = ['.json', '.yaml', '.yml'] as const;

/** 1-based line and column of a character offset, as editors count them. */
export function lineColumn(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, col: offset - before.lastIndexOf('\n') };
}

/** Parse config text; `name` (the path as the user typed it) prefixes every error. */
export function parseConfigText(text: string, name: string): Record<string, unknown> {
  const ext = extname(name).toLowerCase();
  let value: unknown;
  if (ext === '.json') {
    try {
      value = JSON.parse(text);
    } catch (e) {
      const msg = (e as Error).message;
      // V8 gives a character offset for most JSON errors; editors want a line.
      const pos = /at position (\d+)/.exec(msg);
      const where = pos ? (({ line, col }) => `:${line}:${col}`)(lineColumn(text, Number(pos[1]))) : '';
      throw new UserError(`config ${name}${where}: not valid JSON: ${msg.split('\n')[0]}`);
    }
  } else if (ext === '.yaml' || ext === '.yml') {
    // uniqueKeys (the default) makes a repeated key an error instead of silently keeping the last.
    const doc = parseDocument(text, { uniqueKeys: true });
    const err = doc.errors[0];
    if (err) {
      const at = err.linePos?.[0];
      // The library's message ends in a multi-line code excerpt; the CLI prints one line.
      const msg = err.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
      throw new UserError(`config ${name}${at ? `:${at.line}:${at.col}` : ''}: YAML syntax error: ${msg}`);
    }
    value = doc.toJS();
  } else {
    throw new UserError(`config ${name}: unknown extension "${ext}"; name the file *.json, *.yaml or *.yml`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UserError(`config ${name}: expected a mapping of config fields at the top level (e.g. "sft: {epochs: 4}"), got ${value === null ? 'nothing' : Array.isArray(value) ? 'a list' : typeof value}`);
  }
  return value as Record<string, unknown>;
}

/** Read and parse a config file; errors name the file as given on the command line. */
export function loadConfigFile(path: string, shownAs = path): Record<string, unknown> {
  if (!existsSync(path)) throw new UserError(`--config ${shownAs}: file not found`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError(`--config ${shownAs}: cannot read it (${(e as Error).message})`);
  }
  return parseConfigText(text, shownAs);
}

/** One command of a shell line: its words, and its text as typed (for `history`). */
export interface CommandLine {
  text: string;
  args: string[];
}

/** A line the shell cannot split into words (an unclosed quote, a dangling backslash). */
export class TokenizeError extends Error {
  override readonly name = 'TokenizeError';
}

/**
 * Splits a shell line into commands (separated by `;`) and each command into words, the way a
 * POSIX shell would for the simple cases a zkCli user types: whitespace separates words, `'…'`
 * keeps everything literally, `"…"` keeps whitespace and `;` and honours `\"` and `\\`, a
 * backslash outside quotes escapes the next character. A `#` at the start of a word starts a
 * comment that runs to the end of the line (so scripts piped on stdin may carry comments).
 * @throws TokenizeError for an unclosed quote or a trailing backslash.
 */
export function tokenize(line: string): CommandLine[] {
  const commands: CommandLine[] = [];
  let args: string[] = [];
  let word = '';
  let inWord = false;
  let start = 0;
  const endWord = () => {
    if (inWord) args.push(word);
    word = '';
    inWord = false;
  };
  const endCommand = (end: number) => {
    endWord();
    if (args.length > 0) commands.push({ text: line.slice(start, end).trim(), args });
    args = [];
  };
  let i = 0;
  for (; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\') {
      if (i + 1 >= line.length) throw new TokenizeError('a backslash at the end of the line escapes nothing');
      word += line[++i];
      inWord = true;
    } else if (c === "'") {
      const close = line.indexOf("'", i + 1);
      if (close < 0) throw new TokenizeError('unclosed single quote');
      word += line.slice(i + 1, close);
      inWord = true;
      i = close;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < line.length && line[j] !== '"'; j++) {
        if (line[j] === '\\' && (line[j + 1] === '"' || line[j + 1] === '\\')) j++;
        word += line[j];
      }
      if (j >= line.length) throw new TokenizeError('unclosed double quote');
      inWord = true;
      i = j;
    } else if (c === ';') {
      endCommand(i);
      start = i + 1;
    } else if (c === '#' && !inWord) {
      break;
    } else if (/\s/.test(c)) {
      endWord();
    } else {
      word += c;
      inWord = true;
    }
  }
  endCommand(i);
  return commands;
}

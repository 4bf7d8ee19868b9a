/** Maps JSON paths (ajv's `/a/0/b`) to line and column in the file's text, for errors that point at the line. */
import {
  findNodeAtLocation,
  getNodeValue,
  parseTree,
  printParseErrorCode,
  type Node,
  type ParseError,
  type ParseErrorCode,
} from 'jsonc-parser';

/** What each JSON parser error means, in words (never the parser's code names like `PropertyNameExpected`). */
const SYNTAX_WORDS: Record<string, string> = {
  InvalidSymbol: 'unexpected character',
  InvalidNumberFormat: 'invalid number',
  PropertyNameExpected: 'expected a property name in double quotes (is there a trailing comma?)',
  ValueExpected: 'expected a value (is there a trailing comma?)',
  ColonExpected: "expected ':' after the property name",
  CommaExpected: "expected ',' between values",
  CloseBraceExpected: "expected '}' to close the object",
  CloseBracketExpected: "expected ']' to close the array",
  EndOfFileExpected: 'expected the end of the file after the value',
  InvalidCommentToken: 'comments are not allowed in JSON',
  UnexpectedEndOfComment: 'comments are not allowed in JSON (and this one is not closed)',
  UnexpectedEndOfString: "the string is not closed (missing '\"')",
  UnexpectedEndOfNumber: 'the number ends too early',
  InvalidUnicode: 'invalid \\u escape in a string',
  InvalidEscapeCharacter: 'invalid escape in a string',
  InvalidCharacter: 'invalid character in a string (control characters must be escaped)',
};

/** A JSON syntax error in words with its place: "JSON syntax error at line 3, column 5: expected a property name …". */
export function syntaxErrorText(code: ParseErrorCode, line: number, character: number): string {
  return `JSON syntax error at line ${line + 1}, column ${character + 1}: ${SYNTAX_WORDS[printParseErrorCode(code)] ?? 'invalid JSON'}`;
}

/** A position in a text file (0-based line and character, like VS Code's). */
export interface TextRange {
  line: number;
  character: number;
  endLine: number;
  endCharacter: number;
}

/** A problem found in a JSON file, with where it is. */
export interface JsonProblem {
  /** JSON pointer of the value (`/data/0/path`), '' for the whole document. */
  pointer: string;
  message: string;
  range: TextRange;
}

/** Line/column lookups over one text. */
export class JsonText {
  readonly root: Node | undefined;
  readonly syntaxErrors: JsonProblem[] = [];
  private readonly lineStarts: number[] = [0];

  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
    const errors: ParseError[] = [];
    this.root = parseTree(text, errors, { allowTrailingComma: false, disallowComments: true });
    for (const e of errors) {
      const range = this.range(e.offset, e.length);
      this.syntaxErrors.push({
        pointer: '',
        message: syntaxErrorText(e.error, range.line, range.character),
        range,
      });
    }
  }

  /** Range of text[offset, offset + length). */
  range(offset: number, length: number): TextRange {
    const at = (o: number): [number, number] => {
      let lo = 0;
      let hi = this.lineStarts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (this.lineStarts[mid] <= o) lo = mid;
        else hi = mid - 1;
      }
      return [lo, o - this.lineStarts[lo]];
    };
    const [line, character] = at(offset);
    const [endLine, endCharacter] = at(offset + length);
    return { line, character, endLine, endCharacter };
  }

  /** The range of the value at a JSON pointer (or of its nearest existing parent). */
  rangeOf(pointer: string, key = false): TextRange {
    const segments = pointer
      .split('/')
      .slice(1)
      .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    while (this.root) {
      const path = segments.map((s) => (/^\d+$/.test(s) ? Number(s) : s));
      const node = findNodeAtLocation(this.root, path);
      if (node) {
        // Point at the property's key when asked (an unknown property), else at the value.
        const target = key && node.parent?.type === 'property' ? node.parent.children![0] : node;
        return this.range(target.offset, target.length);
      }
      if (segments.length === 0) break;
      segments.pop();
    }
    return this.range(0, 0);
  }

  /** The value at a JSON pointer (undefined when there is none). */
  valueAt(pointer: string): unknown {
    const path = pointer
      .split('/')
      .slice(1)
      .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
      .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
    const node = this.root && findNodeAtLocation(this.root, path);
    return node ? (getNodeValue(node) as unknown) : undefined;
  }

  /** A problem at a JSON pointer. */
  problem(pointer: string, message: string, key = false): JsonProblem {
    return { pointer, message, range: this.rangeOf(pointer, key) };
  }
}

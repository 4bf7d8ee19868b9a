/**
 * An element directive that sets inline styles through CSSOM (`style.setProperty`). The webview's CSP forbids
 * style attributes, which lit's styleMap writes on first render; CSSOM changes are allowed.
 */
import { noChange } from 'lit';
import { Directive, directive, PartType, type ElementPart, type PartInfo } from 'lit/directive.js';

class CssomStyle extends Directive {
  private previous = new Set<string>();

  constructor(info: PartInfo) {
    super(info);
    if (info.type !== PartType.ELEMENT) throw new Error('cssom() goes on an element: <div ${cssom({...})}>');
  }

  render(_styles: Record<string, string>): unknown {
    return noChange;
  }

  override update(part: ElementPart, [styles]: [Record<string, string>]): unknown {
    const style = (part.element as HTMLElement).style;
    for (const name of this.previous) if (!(name in styles)) style.removeProperty(name);
    for (const [name, value] of Object.entries(styles)) style.setProperty(name, value);
    this.previous = new Set(Object.keys(styles));
    return noChange;
  }
}

/** Inline styles (CSS property names, e.g. `{ 'background-color': 'red' }`) set through CSSOM. */
export const cssom = directive(CssomStyle);

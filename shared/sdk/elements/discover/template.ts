// Selector values are Go text/templates over the request's labels (sdk.md §3.12, api.md §8.6): upstream
// runs text/template with the label map as data, and compares the raw value when the template does not
// parse or run. We render the subset that selectors use, with Go's output, and treat everything else as
// "does not parse", which gives the same raw-value fallback:
//   {{.key}}            the label, or "<no value>" when absent (Go's missing map key)
//   {{index . "key"}}   the label, or "" when absent (index yields the zero value); for keys such as
//                       "app.kubernetes.io/name" that are no identifiers
//   {{.}}               the whole map, as Go prints it: map[k1:v1 k2:v2] with sorted keys
//   {{/* comment */}}   nothing
// with Go's trim markers ("{{- " and " -}}" eat the white space beside the action).

const IDENT = /^\.([A-Za-z_][A-Za-z0-9_]*)$/;
const INDEX = /^index\s+\.\s+(?:"((?:[^"\\]|\\.)*)"|`([^`]*)`)$/;

/** One action's output, or undefined when Go would fail to parse or run it. */
function action(body: string, vars: Record<string, string>): string | undefined {
  if (/^\/\*[\s\S]*\*\/$/.test(body)) return '';
  if (body === '.') return `map[${Object.keys(vars).sort().map((k) => `${k}:${vars[k]}`).join(' ')}]`;
  const field = IDENT.exec(body);
  if (field) return Object.hasOwn(vars, field[1]) ? vars[field[1]] : '<no value>';
  const index = INDEX.exec(body);
  if (index) {
    let key: string;
    try {
      key = index[1] !== undefined ? (JSON.parse(`"${index[1]}"`) as string) : index[2];
    } catch {
      return undefined;
    }
    return Object.hasOwn(vars, key) ? vars[key] : '';
  }
  return undefined;
}

/** Renders `value` with the labels as data; returns `value` unchanged where Go would report an error. */
export function renderTemplate(value: string, vars: Record<string, string>): string {
  if (!value.includes('{{')) return value;
  let out = '';
  let rest = value;
  for (;;) {
    const open = rest.indexOf('{{');
    if (open < 0) return out + rest;
    let text = rest.slice(0, open);
    let inner = rest.slice(open + 2);
    if (/^-\s/.test(inner)) {
      text = text.replace(/\s+$/, '');
      inner = inner.slice(1);
    }
    const close = inner.indexOf('}}');
    if (close < 0) return value; // unclosed action: a parse error
    let body = inner.slice(0, close);
    rest = inner.slice(close + 2);
    if (/\s-$/.test(body)) {
      body = body.slice(0, -1);
      rest = rest.replace(/^\s+/, '');
    }
    const rendered = action(body.trim(), vars);
    if (rendered === undefined) return value;
    out += text + rendered;
  }
}

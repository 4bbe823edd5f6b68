// A form built from a typed request's JSON schema (pydantic's model_json_schema): one control
// per field with its range, allowed values and description, so the page offers every option
// and checks it as the API does; only the fields the user set are sent (the rest take the
// model's defaults on the server).
import {h} from './dom.js';

const label = (name, prop) => prop.title || name.replace(/_/g, ' ');

/** The JSON-schema branch that is not null, and whether null is allowed. */
function shape(prop) {
  const branches = prop.anyOf || [prop];
  const main = branches.find((b) => b.type !== 'null') || {};
  return {...main, nullable: branches.some((b) => b.type === 'null')};
}

function control(name, prop, prefix) {
  const s = shape(prop);
  const id = `${prefix}-${name}`;
  const common = {id, name, 'aria-describedby': prop.description ? `${id}-help` : null};
  if (s.enum) {
    const opts = s.nullable ? [h('option', {value: ''}, 'default')] : [];
    return h('select', common, opts, s.enum.map((v) => h('option', {value: v, selected: v === prop.default}, v)));
  }
  if (s.type === 'boolean') return h('input', {...common, type: 'checkbox', checked: prop.default === true});
  if (s.type === 'integer' || s.type === 'number') {
    return h('input', {...common, type: 'number', inputmode: s.type === 'integer' ? 'numeric' : 'decimal',
      min: s.minimum ?? s.exclusiveMinimum, max: s.maximum, step: s.type === 'integer' ? 1 : 'any',
      placeholder: prop.default !== undefined && prop.default !== null ? `default ${prop.default}` : 'default'});
  }
  if (s.type === 'array') {
    return h('input', {...common, type: 'text', placeholder: 'comma-separated; empty for the default',
      'data-array': true, 'data-max': s.maxItems});
  }
  return h('input', {...common, type: 'text', maxlength: s.maxLength, minlength: s.minLength,
    pattern: s.pattern ? s.pattern.replace(/^\^|\$$/g, '') : null, placeholder: 'default'});
}

/** A field a form can hold: a scalar, an allowed value or a list of strings. Nested objects
 * (a podcast's `script`, which the review step writes) are left to their own pages. */
const simple = (prop) => { const s = shape(prop); return !s.$ref && s.type !== 'object'; };

export function paramFields(schema, prefix = 'p') {
  return Object.entries(schema.properties || {}).filter(([, prop]) => simple(prop)).map(([name, prop]) => {
    const el = control(name, prop, prefix);
    const help = prop.description ? h('small', {id: `${el.id}-help`, class: 'muted'}, prop.description) : null;
    return el.type === 'checkbox'
      ? h('div', {class: 'field check'}, el, h('label', {for: el.id}, label(name, prop)), help)
      : h('div', {class: 'field'}, h('label', {for: el.id}, label(name, prop)), el, help);
  });
}

/** The parameters the user set (unset ones take the model's defaults on the server). */
export function valuesOf(form, schema, prefix = 'p') {
  const out = {};
  for (const [name, prop] of Object.entries(schema.properties || {})) {
    const el = form.querySelector(`#${prefix}-${CSS.escape(name)}`);
    const s = shape(prop);
    if (!el) continue;
    if (el.type === 'checkbox') {
      if (el.checked !== (prop.default === true)) out[name] = el.checked;
    } else if (el.value.trim() === '') {
      continue;
    } else if (el.dataset.array !== undefined) {
      out[name] = el.value.split(',').map((v) => v.trim()).filter(Boolean);
    } else if (s.type === 'integer') {
      out[name] = Number.parseInt(el.value, 10);
    } else if (s.type === 'number') {
      out[name] = Number(el.value);
    } else if (!(s.enum && el.value === prop.default)) {
      out[name] = el.value;
    }
  }
  return out;
}


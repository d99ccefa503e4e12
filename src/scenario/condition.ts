// Evaluation of the final condition over an observed final state, and herd's
// reading of the result: Observation (Never/Sometimes/Always over the condition's
// proposition) and validation (Ok/No over the quantified condition).

import type { Observable, Observation, Prop, Scenario } from './ast.js';

/** A predicate over the observed values (in `scenario.observed` order). */
export function compileProp(sc: Scenario, which: 'condition' | 'filter' = 'condition'): (values: readonly number[]) => boolean {
  const index = new Map<string, number>();
  sc.observed.forEach((o, i) => index.set(key(o), i));
  const go = (p: Prop): ((v: readonly number[]) => boolean) => {
    switch (p.k) {
      case 'true':
        return () => true;
      case 'false':
        return () => false;
      case 'eq': {
        const i = index.get(key(p.lhs))!;
        const rhs = p.rhs;
        return p.neg ? (v) => v[i] !== rhs : (v) => v[i] === rhs;
      }
      case 'not': {
        const a = go(p.a);
        return (v) => !a(v);
      }
      case 'and': {
        const a = go(p.a);
        const b = go(p.b);
        return (v) => a(v) && b(v);
      }
      case 'or': {
        const a = go(p.a);
        const b = go(p.b);
        return (v) => a(v) || b(v);
      }
      case 'implies': {
        const a = go(p.a);
        const b = go(p.b);
        return (v) => !a(v) || b(v);
      }
    }
  };
  if (which === 'filter') return sc.filter ? go(sc.filter) : () => true;
  return go(sc.condition.prop);
}

function key(o: Observable): string {
  return o.k === 'reg' ? `${o.thread}:${o.reg}` : o.k === 'loc' ? `loc:${o.loc}` : `cpu${o.cpu}:${o.name}`;
}

export function observation(positive: number, negative: number): Observation {
  if (positive === 0) return 'Never';
  if (negative === 0) return 'Always';
  return 'Sometimes';
}

/** herd's validation line: did the quantified condition hold? */
export function validated(q: Scenario['condition']['quantifier'], positive: number, negative: number): boolean {
  switch (q) {
    case 'exists':
      return positive > 0;
    case 'not-exists':
      return positive === 0;
    case 'forall':
      return negative === 0;
  }
}

/** herd's word on the first line: `Test NAME Allowed|Forbidden|Required`. */
export function testKind(q: Scenario['condition']['quantifier']): string {
  return q === 'exists' ? 'Allowed' : q === 'not-exists' ? 'Forbidden' : 'Required';
}

export function conditionLine(sc: Scenario): string {
  const q = sc.condition.quantifier === 'not-exists' ? '~exists' : sc.condition.quantifier;
  return `${q} (${stripOuterParens(sc.condition.text)})`;
}

function stripOuterParens(s: string): string {
  if (!s.startsWith('(') || !s.endsWith(')')) return s;
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '(') depth++;
    else if (s[i] === ')') depth--;
    if (depth === 0 && i < s.length - 1) return s;
  }
  return s.slice(1, -1).trim();
}

// Translates a parsed C litmus scenario (src/scenario/ast.ts) into an AArch64
// litmus test for herd7, with the kernel's arm64 mapping of each primitive
// (v6.18, LSE atomics):
//   READ_ONCE/atomic_read             LDR        smp_load_acquire/atomic_read_acquire  LDAR
//   WRITE_ONCE/atomic_set             STR        smp_store_release/atomic_set_release  STLR
//   smp_mb, smp_mb__{before,after}_atomic  DMB ISH   smp_rmb DMB ISHLD   smp_wmb DMB ISHST
//   barrier                           nothing
//   xchg{,_relaxed,_acquire,_release}       SWP{AL,,A,L}
//   cmpxchg{,...}                           CAS{AL,,A,L}
//   atomic_{add,sub}_return, atomic_fetch_* LD{ADD,CLR,SET,EOR}{AL,,A,L}
//   atomic_{inc,dec,add,sub,and,or,xor}     ST{ADD,CLR,SET,EOR}
// (arch/arm64/include/asm/barrier.h, atomic_lse.h, cmpxchg.h). An `if` becomes
// CMP and a conditional branch, as a compiler that keeps the branch would emit.
// Throws Unsupported for what it does not translate (the caller records why).

export class Unsupported extends Error {}

const ADDR_BASE = 2 ** 48;
const SUFFIX = { mb: 'AL', relaxed: '', once: '', acquire: 'A', release: 'L' };
const CONDS = { '==': ['EQ', 'NE'], '!=': ['NE', 'EQ'], '<': ['LT', 'GE'], '<=': ['LE', 'GT'], '>': ['GT', 'LE'], '>=': ['GE', 'LT'] };

/** The AArch64 litmus text of a scenario, and how its register names map back. */
export function toAArch64(sc) {
  if (sc.usesKernel || sc.handlers.length > 0 || sc.codeLocs.length > 0 || sc.directives.length > 0) throw new Unsupported('kernel or machine extensions');
  const locName = (l) => sc.locations[l].name;
  const threads = sc.threads.map((t) => thread(t, sc));
  const init = [];
  threads.forEach((t, i) => {
    for (const [loc, reg] of t.addrRegs) init.push(`${i}:X${reg}=${locName(loc)};`);
    sc.threads[i].regs.forEach((r, k) => {
      if (r.init !== 0) init.push(`${i}:X${k}=${r.init >= ADDR_BASE ? locName(r.init - ADDR_BASE) : r.init};`);
    });
  });
  // A location that holds a pointer starts with the address of another (`p=y;`).
  for (const l of sc.locations) init.push(`${l.name}=${l.init >= ADDR_BASE ? locName(l.init - ADDR_BASE) : l.init};`);
  const width = Math.max(...threads.map((t) => Math.max(4, ...t.code.map((c) => c.length)))) + 1;
  const rows = Math.max(...threads.map((t) => t.code.length));
  const lines = [threads.map((_, i) => ` P${i}`.padEnd(width)).join('|') + ';'];
  for (let r = 0; r < rows; r++) lines.push(threads.map((t) => ` ${t.code[r] ?? ''}`.padEnd(width)).join('|') + ';');
  // The condition, with each register N:rK renamed N:XK.
  let cond = sc.condition.text;
  sc.threads.forEach((t, i) => t.regs.forEach((r, k) => {
    cond = cond.replace(new RegExp(`\\b${i}:${r.name}\\b`, 'g'), `${i}:X${k}`);
  }));
  const kw = sc.condition.quantifier === 'exists' ? 'exists' : sc.condition.quantifier === 'forall' ? 'forall' : '~exists';
  // Everything smpcheck prints in a final state (the condition's and `locations [...]`'s names).
  const observed = sc.observed.map((o) => (o.k === 'reg' ? `${o.thread}:X${o.reg}` : locName(o.loc)));
  const text = `AArch64 ${sc.name}\n{\n${init.join('\n')}\n}\n${lines.join('\n')}\nlocations [${observed.join('; ')};]\n${kw} ${cond}\n`;
  return { text };
}

function thread(t, sc) {
  if (t.regs.length > 10) throw new Unsupported('more than 10 registers');
  const code = [];
  const addrRegs = new Map(); // location -> X register holding its address
  // Registers that hold addresses: loaded, stored and compared whole (X), not as 32-bit values (W).
  const wide = new Set(t.regs.flatMap((r, k) => (r.pointer ? [k] : [])));
  const R = (k) => `${wide.has(k) ? 'X' : 'W'}${k}`;
  let temp = 10;
  let label = 0;
  const tmp = () => {
    if (temp > 19) throw new Unsupported('expression too large');
    return temp++;
  };
  const addrOf = (e) => {
    if (e.k === 'reg' && wide.has(e.reg)) return e.reg; // a pointer held in a register: an address dependency
    if (e.k !== 'addr') throw new Unsupported('an address computed at run time');
    if (!addrRegs.has(e.loc)) addrRegs.set(e.loc, 20 + addrRegs.size);
    if (addrRegs.size > 10) throw new Unsupported('more than 10 locations in a thread');
    return addrRegs.get(e.loc);
  };
  /** A register (number) holding the value of e; `into` when e must be computed there. */
  const value = (e, into) => {
    switch (e.k) {
      case 'num': {
        const d = into ?? tmp();
        code.push(`MOV W${d},#${e.v}`);
        return d;
      }
      case 'reg':
        if (into !== undefined && into !== e.reg) {
          if (wide.has(e.reg) !== wide.has(into)) throw new Unsupported('a pointer copied to an integer register');
          code.push(`MOV ${R(into)},${R(e.reg)}`);
          return into;
        }
        return e.reg;
      case 'addr': {
        // The address of a location, as a value (a pointer to store or keep).
        const a = addrOf(e);
        if (into !== undefined) throw new Unsupported('an address assigned to a register');
        wide.add(a);
        return a;
      }
      case 'load': {
        const d = into ?? tmp();
        const op = e.order === 'acquire' ? 'LDAR' : 'LDR';
        code.push(`${op} ${R(d)},[X${addrOf(e.addr)}]`);
        return d;
      }
      case 'bin': {
        const ops = { '+': 'ADD', '-': 'SUB', '&': 'AND', '|': 'ORR', '^': 'EOR' };
        if (!ops[e.op]) throw new Unsupported(`operator ${e.op} outside a condition`);
        const a = value(e.a);
        const d = into ?? tmp();
        if (e.b.k === 'num') code.push(`${ops[e.op]} W${d},W${a},#${e.b.v}`);
        else code.push(`${ops[e.op]} W${d},W${a},W${value(e.b)}`);
        return d;
      }
      case 'rmw':
        return rmw(e, into);
      default:
        throw new Unsupported(`${e.k} expressions`);
    }
  };
  const rmw = (e, into) => {
    const sfx = SUFFIX[e.order];
    const x = addrOf(e.addr);
    const arg = (i) => value(e.args[i]);
    const d = into ?? tmp();
    switch (e.op) {
      case 'xchg':
        code.push(`SWP${sfx} W${arg(0)},W${d},[X${x}]`);
        return d;
      case 'cmpxchg': {
        // CAS Ws, Wt, [Xn]: compares Ws with memory, stores Wt if equal; Ws receives the old value.
        value(e.args[0], d);
        const n = arg(1);
        code.push(`CAS${sfx} W${d},W${n},[X${x}]`);
        return d;
      }
      case 'add': case 'sub': case 'and': case 'or': case 'xor': {
        const k = e.args.length === 0 ? 1 : null;
        let s;
        const src = e.args[0];
        if (e.op === 'sub' || e.op === 'and') {
          // LDADD of the negation; LDCLR clears the bits of the complement.
          if (k === null && src.k !== 'num') throw new Unsupported(`${e.fn} of a register`);
          const v = k ?? src.v;
          s = tmp();
          code.push(`MOV W${s},#${e.op === 'sub' ? -v : ~v}`);
        } else if (k !== null) {
          s = tmp();
          code.push(`MOV W${s},#1`);
        } else s = arg(0);
        const name = { add: 'ADD', sub: 'ADD', and: 'CLR', or: 'SET', xor: 'EOR' }[e.op];
        if (e.ret === 'none') {
          code.push(`ST${name} W${s},[X${x}]`);
          return d;
        }
        code.push(`LD${name}${sfx} W${s},W${d},[X${x}]`);
        if (e.ret === 'new') {
          if (e.op === 'add' || e.op === 'sub') code.push(`ADD W${d},W${d},W${s}`);
          else throw new Unsupported(`${e.fn} returning the new value`);
        }
        return d;
      }
      default:
        throw new Unsupported(`${e.fn}`);
    }
  };
  const branchIfFalse = (c, target) => {
    if (c.k === 'bin' && CONDS[c.op]) {
      const a = value(c.a);
      if (c.b.k === 'num') code.push(`CMP W${a},#${c.b.v}`);
      else code.push(`CMP W${a},W${value(c.b)}`);
      code.push(`B.${CONDS[c.op][1]} ${target}`);
      return;
    }
    const a = value(c);
    code.push(`CBZ W${a},${target}`);
  };
  const block = (stmts) => {
    for (const s of stmts) {
      temp = 10;
      switch (s.k) {
        case 'assign':
          value(s.e, s.reg);
          break;
        case 'store': {
          const v = value(s.e);
          code.push(`${s.order === 'release' ? 'STLR' : 'STR'} ${R(v)},[X${addrOf(s.addr)}]`);
          break;
        }
        case 'fence': {
          const f = { mb: 'DMB ISH', rmb: 'DMB ISHLD', wmb: 'DMB ISHST', mb__before_atomic: 'DMB ISH', mb__after_atomic: 'DMB ISH', barrier: null }[s.fence];
          if (f === undefined) throw new Unsupported(`${s.fn}() (RCU is kernel code on arm64)`);
          if (f) code.push(f);
          break;
        }
        case 'eval':
          if (s.e.k !== 'rmw') throw new Unsupported('an expression statement');
          rmw(s.e);
          break;
        case 'if': {
          const elseL = `L${t.id}x${label++}`;
          const endL = `L${t.id}x${label++}`;
          branchIfFalse(s.c, elseL);
          block(s.then);
          code.push(`B ${endL}`);
          code.push(`${elseL}:`);
          block(s.else);
          code.push(`${endL}:`);
          break;
        }
        default:
          throw new Unsupported(`${s.k} statements`);
      }
    }
  };
  block(t.body);
  if (code.length === 0) code.push('NOP');
  return { code, addrRegs };
}

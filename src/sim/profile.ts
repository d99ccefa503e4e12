// A cost profile for smpcheck sim: what each step of the modelled machine costs on one
// machine, every number with its unit and where it comes from. Profiles are JSON files
// (profiles/*.json) checked here with zod; a profile that does not validate is refused
// with SMP220 and the path of the offending field.

import type { z } from 'zod';
import { lazySchema } from '../zod.js';
import { readBounded } from '../scenario/bounded-read.js';
import { SmpError } from '../scenario/errors.js';

/** Every parameter a profile gives, in nanoseconds unless its unit says otherwise. */
export const PARAMS = {
  access_l1_ns: 'a load or store that hits the CPU\'s own cache (every modelled access pays it)',
  line_from_llc_ns: 'a line no CPU holds modified: a read or a write of a line this CPU does not hold',
  line_transfer_ns: 'a line another CPU holds modified (read), or holds at all (write: invalidation): a cache-to-cache transfer',
  locked_rmw_ns: 'a locked read-modify-write (LOCK-prefixed instruction), beyond its line\'s cost',
  fence_ns: 'a full fence (MFENCE; smp_mb())',
  syscall_entry_ns: 'SYSCALL and the kernel\'s entry path up to the system call\'s function',
  sysret_ns: 'the system call\'s return to user mode by SYSRET',
  iret_ns: 'a return by IRET (from an interrupt, the slow system-call path, ret_from_fork)',
  irq_entry_ns: 'an interrupt\'s entry: the vector taken, the entry path to the handler',
  ipi_send_ns: 'sending an IPI (the APIC ICR write), on the sender',
  ipi_send_mask_extra_ns: 'each further target of one send_IPI_mask() (the call-function IPI to several CPUs), on the sender',
  ipi_latency_ns: 'from the ICR write to the interrupt being deliverable on the target',
  sync_core_ns: 'sync_core() as the model\'s kernel does it (IRET to self, no SERIALIZE)',
  serialize_ns: 'any other core-serialising event',
  cr3_write_ns: 'a CR3 write that flushes the PCID',
  cr3_write_noflush_ns: 'a CR3 write with NOFLUSH',
  invlpg_ns: 'INVLPG of one page',
  tlb_flush_full_ns: 'a full flush of the current PCID (flush_tlb_local(): a CR3 reload)',
  page_walk_ns: 'a TLB miss: the page walk that refills the entry',
  context_switch_ns: 'context_switch() and the parts of __schedule() the model leaves out (the scheduling class, accounting, register switch)',
  wakeup_ns: 'try_to_wake_up()\'s work the model leaves out (select_task_rq, enqueue, accounting)',
  step_ns: 'any other modelled step (an op with no memory access: a compiler barrier, interrupt masking)',
  jitter: 'per run, every parameter is multiplied by 1 + jitter x a standard normal draw (clamped at 0.5): the spread of --runs',
} as const;
export type ParamName = keyof typeof PARAMS;

/** A profile's shape, and the shapes of its parts. */
const schemas = lazySchema((z) => {
  /** Where a number comes from. `fitted` numbers name the one table column they were fitted on. */
  const source = z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('published'), ref: z.string().min(1), note: z.string().optional() }).strict(),
    z.object({ kind: z.literal('measured'), how: z.string().min(1), note: z.string().optional() }).strict(),
    z.object({
      kind: z.literal('fitted'),
      table: z.string().min(1),
      column: z.string().min(1),
      /** The fit used this row's cell of the column only. */
      row: z.string().min(1).optional(),
      note: z.string().optional(),
    }).strict(),
    z.object({ kind: z.literal('estimate'), note: z.string().min(1) }).strict(),
  ]);

  const param = z.object({
    value: z.number().finite().nonnegative(),
    unit: z.enum(['ns', 'fraction']),
    source,
  }).strict();
  const paramsShape = Object.fromEntries(Object.keys(PARAMS).map((k) => [k, param])) as Record<ParamName, typeof param>;

  const profile = z.object({
    format: z.literal('smpcheck-profile/1'),
    name: z.string().min(1),
    machine: z.string().min(1),
    note: z.string().optional(),
    params: z.object(paramsShape).strict(),
    /**
     * The work a modelled kernel function does that the model leaves out, charged
     * when it is called (by kernel name, `smpcheck variants --functions`).
     */
    functions: z.record(z.string(), param).default({}),
  }).strict();
  return { source, param, profile };
});
export type Source = z.infer<ReturnType<typeof schemas>['source']>;
export type Param = z.infer<ReturnType<typeof schemas>['param']>;
export type Profile = z.infer<ReturnType<typeof schemas>['profile']>;

/** Validates a parsed profile; `file` names it in errors. */
export function validateProfile(data: unknown, file: string, kernelFunctions: readonly string[]): Profile {
  const r = schemas().profile.safeParse(data);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const path = issue.path.length > 0 ? issue.path.join('.') : '(the top level)';
    throw new SmpError('SMP220', `profile ${file}: ${path}: ${issue.message}`, undefined, file);
  }
  const p = r.data;
  for (const [name, v] of Object.entries(p.params)) {
    const want = name === 'jitter' ? 'fraction' : 'ns';
    if (v.unit !== want) throw new SmpError('SMP220', `profile ${file}: params.${name}: the unit is ${want}, not ${v.unit}`, undefined, file);
  }
  for (const [name, v] of Object.entries(p.functions)) {
    if (!kernelFunctions.includes(name)) throw new SmpError('SMP220', `profile ${file}: functions.${name}: not a modelled kernel function (smpcheck variants --functions lists them)`, undefined, file);
    if (v.unit !== 'ns') throw new SmpError('SMP220', `profile ${file}: functions.${name}: the unit is ns, not ${v.unit}`, undefined, file);
  }
  return p;
}

export function loadProfile(file: string, kernelFunctions: readonly string[]): Profile {
  const text = readBounded(file, 1_000_000, 'profile');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new SmpError('SMP220', `profile ${file}: not JSON: ${(e as Error).message}`, undefined, file);
  }
  return validateProfile(data, file, kernelFunctions);
}

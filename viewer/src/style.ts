// The page's style sheet (a constant of the viewer; nothing from a trace).

export const STYLE = `
:root { --user: #dbeafe; --kernel: #f3f4f6; --irq: #fde2e2; --hardware: #fef9c3; --sel: #2563eb; font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; font-size: 13px; color: #111; }
body { margin: 0; background: #fff; }
header { padding: 8px 12px; border-bottom: 1px solid #ddd; position: sticky; top: 0; background: #fff; z-index: 3; }
header h1 { font-size: 17px; margin: 0 0 2px 0; }
.meta, .keys { color: #555; }
.keys { font-size: 11px; margin-top: 2px; }
.controls { display: flex; gap: 10px; align-items: center; margin: 6px 0 4px 0; flex-wrap: wrap; }
.controls input[type=search] { width: 16em; }
.legend span { display: inline-block; padding: 1px 6px; margin-right: 6px; border-radius: 3px; font-size: 11px; }
.ctx-user { background: var(--user); }
.ctx-kernel { background: var(--kernel); }
.ctx-irq { background: var(--irq); }
.ctx-hardware { background: var(--hardware); font-style: italic; }
.layout { display: grid; grid-template-columns: minmax(0, 1fr) 30em; gap: 0; height: 58vh; min-height: 360px; }
.lanes-wrap { display: flex; flex-direction: column; min-width: 0; border-right: 1px solid #ddd; }
.lanes-head { display: grid; font-weight: 600; border-bottom: 1px solid #bbb; background: #fafafa; }
.lanes-head > div { padding: 4px 6px; }
.lanes { position: relative; overflow: auto; flex: 1; }
.row { display: grid; border-bottom: 1px solid #f0f0f0; cursor: pointer; }
.row .num { color: #888; padding: 2px 6px; font-variant-numeric: tabular-nums; font-size: 11px; }
.row .cell { padding: 2px 6px; border-left: 1px solid #eee; min-height: 1.3em; overflow-wrap: anywhere; }
.row .cell.empty { background: transparent; }
.row.selected { outline: 2px solid var(--sel); outline-offset: -2px; }
.row.match .cell.step, .row.match .cell.fold { box-shadow: inset 3px 0 0 #f59e0b; }
.row .barrier { margin-left: 6px; font-size: 11px; color: #7c2d12; background: #ffedd5; padding: 0 4px; border-radius: 3px; }
.badge { font-size: 10px; padding: 0 4px; border-radius: 3px; margin-right: 4px; color: #fff; }
.badge.switch { background: #059669; }
.badge.drain { background: #a16207; }
.badge.ipi { background: #8a2be2; }
.cell.ctx-switch { border-top: 2px solid #059669; }
.cell.warn, .warn-text { color: #b91c1c; font-weight: 600; }
.fold-toggle { border: none; background: none; cursor: pointer; padding: 0 4px 0 0; font-size: 12px; }
.cell.fold .fn { font-family: ui-monospace, Menlo, Consolas, monospace; font-weight: 600; }
.cell.fold .call { margin-left: 6px; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 11px; color: #1e3a8a; }
.cell.fold .count { color: #666; margin-left: 6px; font-size: 11px; }
svg.arrows { position: absolute; left: 0; top: 0; pointer-events: none; overflow: visible; }
.side { overflow: auto; padding: 8px 12px; }
.detail h3 { font-size: 14px; margin: 4px 0; }
.step-text { font-family: ui-monospace, Menlo, Consolas, monospace; background: #f8fafc; padding: 4px; border-radius: 3px; }
.calls { color: #444; font-size: 12px; overflow-wrap: anywhere; }
pre.source { background: #f1f5f9; padding: 4px; white-space: pre-wrap; }
.final { font-weight: 600; }
.cpu-state { border: 1px solid #ddd; border-radius: 4px; padding: 4px 8px; margin: 6px 0; }
.cpu-state.active { border-color: var(--sel); }
.cpu-state h4 { margin: 2px 0; }
.buffer .entry { display: inline-block; background: var(--hardware); border: 1px solid #e5d67a; margin: 0 3px; padding: 0 4px; font-family: ui-monospace, Menlo, Consolas, monospace; }
.buffer .empty { color: #888; }
table.kv { border-collapse: collapse; width: 100%; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; }
table.kv th { text-align: left; font-weight: normal; color: #333; padding: 1px 6px 1px 0; }
table.kv td { padding: 1px 0; }
table.kv tr.changed { background: #fef08a; }
.graph-wrap { border-top: 1px solid #ddd; padding: 8px 12px; overflow: auto; }
.graph-wrap h2 { font-size: 15px; margin: 0 0 6px 0; }
svg.graph g.node { cursor: pointer; }
svg.graph g.node.future { opacity: 0.25; }
svg.graph g.node.current polygon, svg.graph g.node.current path { stroke: var(--sel); stroke-width: 3; }
.note { color: #555; }
.error { color: #b91c1c; }
.landing { padding: 40px; max-width: 48em; }
`;

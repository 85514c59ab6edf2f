// The engine a crew runs on, in words: New run's decision line and the Run detail's Engine fact.

import type { CrewaiTarget, CrewSnapshot, CrewSpec, EngineDecision, Execution, FoundPython, TargetKind } from './types';

/** A Python command as a shell-like line (`uv run --project /p python`). */
export function pythonCommand(p: FoundPython): string {
  return [p.command.program, ...(p.command.args ?? [])].join(' ');
}

/** "Runs on CrewAI 1.15.30 (Python 3.11.7, /p/.venv/bin/python): <reason>" or "Runs on the native engine: <reason>". */
export function decisionText(d: EngineDecision): string {
  if (d.engine === 'crewai') {
    const where = d.python ? ` ${d.python.crewai_version} (Python ${d.python.python_version}, ${pythonCommand(d.python)})` : '';
    return `Runs on CrewAI${where}: ${d.reason}`;
  }
  return `Runs on the native engine: ${d.reason}`;
}

export function pythonCrewKind(kind: TargetKind): string {
  switch (kind) {
    case 'crew_project': return 'CrewAI crew project';
    case 'flow_project': return 'CrewAI Flow project';
    case 'script': return 'Python script';
  }
}

/** The snapshot is a CrewAI target (it has `python`), not a native crew spec. */
export function isCrewaiTarget(spec: CrewSnapshot | null | undefined): spec is CrewaiTarget {
  return !!spec && typeof spec === 'object' && 'python' in spec && !Array.isArray((spec as Partial<CrewSpec>).tasks);
}

/** The crew spec the task rows come from: the native snapshot, a translated crew's spec, else `null` (a Python crew). */
export function nativeSpec(spec: CrewSnapshot | null | undefined): CrewSpec | null {
  if (!spec) return null;
  if (isCrewaiTarget(spec)) return spec.translated ?? null;
  return Array.isArray(spec.tasks) ? spec : null;
}

/** The Run detail's Engine fact: "native", "CrewAI 1.15.30 (Python 3.11.7)", with the Python crew's kind. */
export function engineLabel(e: Pick<Execution, 'engine' | 'crew_spec'>): string {
  if (e.engine !== 'crewai') return 'native';
  const target = isCrewaiTarget(e.crew_spec) ? e.crew_spec : null;
  if (!target) return 'CrewAI';
  const what = target.translated ? 'translated crew' : pythonCrewKind(target.kind);
  return `CrewAI ${target.python.crewai_version} (Python ${target.python.python_version}) · ${what}`;
}

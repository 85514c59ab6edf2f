import { describe, expect, it } from 'vitest';
import { decisionText, engineLabel, isCrewaiTarget, nativeSpec } from './engine';
import type { CrewaiTarget, CrewSpec, FoundPython } from './types';
import { executions } from './gen/samples';
import { agentSpec, crewSpec, taskSpec } from './test_samples';

const python: FoundPython = {
  command: { program: '/p/.venv/bin/python' }, source: "the project's .venv", python_version: '3.11.7', crewai_version: '1.15.30',
};
const spec: CrewSpec = crewSpec({ name: 'c', agents: [agentSpec({ key: 'a', role: 'A' })], tasks: [taskSpec({ key: 't', agent: 'a' })] });
const script: CrewaiTarget = { kind: 'script', root: '/p', entry: '/p/s.py', python };

describe('engine decision', () => {
  it('says which engine runs the crew and why', () => {
    expect(decisionText({ engine: 'native', reason: '--engine native' })).toBe('Runs on the native engine: --engine native');
    expect(decisionText({ engine: 'crewai', reason: 'auto: it is a Python script', python })).toBe(
      'Runs on CrewAI 1.15.30 (Python 3.11.7, /p/.venv/bin/python): auto: it is a Python script',
    );
    const uv = { ...python, command: { program: 'uv', args: ['run', '--project', '/p', 'python'] } };
    expect(decisionText({ engine: 'crewai', reason: 'r', python: uv })).toBe('Runs on CrewAI 1.15.30 (Python 3.11.7, uv run --project /p python): r');
  });

  it('tells a CrewAI target from a native snapshot', () => {
    expect(isCrewaiTarget(script)).toBe(true);
    expect(isCrewaiTarget(spec)).toBe(false);
    expect(isCrewaiTarget(null)).toBe(false);
    expect(nativeSpec(spec)).toBe(spec);
    expect(nativeSpec(script)).toBeNull();
    expect(nativeSpec({ ...script, kind: 'crew_project', translated: spec })).toBe(spec);
  });

  it('labels the engine fact', () => {
    expect(engineLabel({ engine: 'native', crew_spec: spec })).toBe('native');
    expect(engineLabel({ engine: 'crewai', crew_spec: script })).toBe('CrewAI 1.15.30 (Python 3.11.7) · Python script');
    expect(engineLabel({ engine: 'crewai', crew_spec: { ...script, translated: spec } })).toContain('translated crew');
    expect(engineLabel({ engine: 'crewai', crew_spec: null })).toBe('CrewAI');
    // Real JSON of both kinds of snapshot.
    expect(engineLabel(executions[0])).toBe('native');
    expect(nativeSpec(executions[0].crew_spec)?.tasks.map((t) => t.key)).toEqual(['draft']);
    expect(engineLabel(executions[1])).toBe('CrewAI 1.15.30 (Python 3.12.3) · CrewAI Flow project');
  });
});

// Jira sandbox: projects, statuses and workflows — ids for statuses and issue types, status
// categories as Jira Cloud names them, and which transitions are available from a status.
import type { SandboxProject, SandboxStatus, SandboxTransition } from './types.js';

export interface StatusCategoryInfo {
  id: number;
  key: SandboxStatus['category'];
  name: string;
  colorName: string;
}

// Jira Cloud's three status categories (GET /rest/api/3/statuscategory).
const STATUS_CATEGORIES: Record<SandboxStatus['category'], StatusCategoryInfo> = {
  new: { id: 2, key: 'new', name: 'To Do', colorName: 'blue-gray' },
  indeterminate: { id: 4, key: 'indeterminate', name: 'In Progress', colorName: 'yellow' },
  done: { id: 3, key: 'done', name: 'Done', colorName: 'green' },
};

export interface StatusInfo {
  id: string;
  name: string;
  category: StatusCategoryInfo;
}

export interface ProjectInfo {
  id: string;
  key: string;
  name: string;
  project: SandboxProject;
}

/** Lookups over the configured projects. Statuses and issue types are global in Jira, so ids are too. */
export class WorkflowCatalog {
  private readonly projects = new Map<string, ProjectInfo>();
  private readonly statuses = new Map<string, StatusInfo>();
  private readonly issueTypeIds = new Map<string, string>();

  constructor(projects: SandboxProject[]) {
    projects.forEach((project, index) => {
      checkWorkflow(project);
      this.projects.set(project.key.toUpperCase(), {
        id: String(10000 + index),
        key: project.key,
        name: project.name,
        project,
      });
      for (const status of project.workflow.statuses) {
        const lower = status.name.toLowerCase();
        if (!this.statuses.has(lower)) {
          const id = String(10000 + this.statuses.size);
          this.statuses.set(lower, { id, name: status.name, category: STATUS_CATEGORIES[status.category] });
        }
      }
      for (const type of project.issueTypes) {
        const lower = type.toLowerCase();
        if (!this.issueTypeIds.has(lower))
          this.issueTypeIds.set(lower, String(10001 + this.issueTypeIds.size));
      }
    });
  }

  /** By key, name or id — the ways JQL and the create body may name a project. */
  findProject(keyNameOrId: string): ProjectInfo | undefined {
    const wanted = keyNameOrId.toLowerCase();
    const direct = this.projects.get(keyNameOrId.toUpperCase());
    if (direct) return direct;
    return [...this.projects.values()].find((p) => p.id === keyNameOrId || p.name.toLowerCase() === wanted);
  }

  project(key: string): ProjectInfo {
    const found = this.projects.get(key.toUpperCase());
    if (!found) throw new Error(`sandbox: unknown project ${key}`);
    return found;
  }

  /** By name (case-insensitive, as JQL compares) or id. */
  findStatus(nameOrId: string): StatusInfo | undefined {
    const byName = this.statuses.get(nameOrId.toLowerCase());
    return byName ?? [...this.statuses.values()].find((s) => s.id === nameOrId);
  }

  status(name: string): StatusInfo {
    const found = this.findStatus(name);
    if (!found) throw new Error(`sandbox: unknown status ${name}`);
    return found;
  }

  findIssueType(nameOrId: string): { id: string; name: string } | undefined {
    const lower = nameOrId.toLowerCase();
    for (const project of this.projects.values()) {
      const name = project.project.issueTypes.find((t) => t.toLowerCase() === lower);
      if (name) return { id: this.issueTypeIds.get(lower) ?? '', name };
    }
    for (const [name, id] of this.issueTypeIds) if (id === nameOrId) return this.findIssueType(name);
    return undefined;
  }

  issueTypeId(name: string): string {
    return this.issueTypeIds.get(name.toLowerCase()) ?? '';
  }

  /** Transitions a person or the bot may take from `status` in the project's workflow, in definition order. */
  availableTransitions(projectKey: string, status: string): SandboxTransition[] {
    const lower = status.toLowerCase();
    return this.project(projectKey).project.workflow.transitions.filter(
      (t) => t.from === 'any' || t.from.some((from) => from.toLowerCase() === lower),
    );
  }
}

function checkWorkflow(project: SandboxProject): void {
  const { statuses, transitions, initial } = project.workflow;
  const names = new Set(statuses.map((s) => s.name.toLowerCase()));
  const unknown = [
    initial,
    ...transitions.flatMap((t) => [t.to, ...(t.from === 'any' ? [] : t.from)]),
  ].filter((name) => !names.has(name.toLowerCase()));
  if (unknown.length > 0) {
    throw new Error(`sandbox: project ${project.key} workflow names unknown statuses: ${unknown.join(', ')}`);
  }
  if (project.issueTypes.length === 0) throw new Error(`sandbox: project ${project.key} has no issue types`);
}

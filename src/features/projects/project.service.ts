/** Projects: top-level records that can be deleted only once they hold no logical cloud (409 until then). */
import type { Described } from '../metadata.js';
import { TopLevelService } from '../top-level.service.js';
import type { ProjectStore } from './project.store.js';

export type ProjectData = Described;
export type ProjectService = TopLevelService<ProjectData>;

export function createProjectService(
  store: ProjectStore,
  hasLogicalClouds: (project: string) => Promise<boolean>,
): ProjectService {
  return new TopLevelService('Project', store, { noun: 'logical clouds', exist: hasLogicalClouds });
}

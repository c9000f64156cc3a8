/** The Kubernetes objects the controllers build, as plain types over the gateway's KubeObject. */
import type { KubeObject, ObjectMeta } from '../kubernetes/cluster-gateway.js';

/** An object the DCM builds: its name is always set. */
export interface BuiltObject extends KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta & { name: string };
}

export interface Namespace extends BuiltObject {
  kind: 'Namespace';
  status?: { phase?: string };
}

export interface Secret extends BuiltObject {
  kind: 'Secret';
  type?: string;
  data?: Record<string, string>;
}

export interface ResourceQuota extends BuiltObject {
  kind: 'ResourceQuota';
  spec: { hard: Record<string, string> };
}

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

export interface Role extends BuiltObject {
  kind: 'Role' | 'ClusterRole';
  rules: PolicyRule[];
}

export interface Subject {
  apiGroup?: string;
  kind: 'Group' | 'User' | 'ServiceAccount';
  name: string;
  namespace?: string;
}

export interface RoleBinding extends BuiltObject {
  kind: 'RoleBinding' | 'ClusterRoleBinding';
  roleRef: { apiGroup: string; kind: 'Role' | 'ClusterRole'; name: string };
  subjects: Subject[];
}

export interface ServiceAccount extends BuiltObject {
  kind: 'ServiceAccount';
}

/** A condition of an object's status, as most kinds report them. */
export interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

export interface Deployment extends KubeObject {
  status?: { conditions?: Condition[] };
}

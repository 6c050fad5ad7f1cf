import { ApiProperty } from '@nestjs/swagger';
import { ROLES } from './roles.js';
import type { UserEntity } from './user.entity.js';

export class UserView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'alice@example.com' }) name!: string;
  @ApiProperty({ example: 'user:alice@example.com', description: 'How sessions, reviews and the audit log name this user' })
  subject!: string;
  @ApiProperty({ enum: ROLES }) role!: string;
  @ApiProperty({ type: [String], example: ['engineers'] }) groups!: string[];
  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: string;
  @ApiProperty({ example: 'bootstrap-admin' }) createdBy!: string;
  @ApiProperty({ enum: ['local', 'oidc', 'dev'], description: 'local: made by an admin; oidc: provisioned at first login; dev: the dev-only admin of airlock dev' })
  source!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) lastLoginAt!: string | null;
}

export class CreatedUserView {
  @ApiProperty({ type: UserView }) user!: UserView;
  @ApiProperty({ description: 'Shown only this once; the control plane keeps only its hash', example: 'alk_user_…' })
  token!: string;
  @ApiProperty({ description: 'The command the user runs to log in', example: 'airlock login --url https://airlock.example.com --token alk_user_…' })
  login!: string;
}

export class UserListView {
  @ApiProperty({ type: [UserView] }) users!: UserView[];
}

export function toUserView(user: UserEntity): UserView {
  return {
    id: user.id,
    name: user.name,
    subject: `user:${user.name}`,
    role: user.role,
    groups: user.groups,
    createdAt: user.createdAt.toISOString(),
    createdBy: user.createdBy,
    source: user.source ?? 'local',
    lastLoginAt: user.lastLoginAt?.toISOString() ?? null,
  };
}

import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, type Repository } from 'typeorm';
import type { Transaction } from '../database/transactions.js';
import { UserEntity } from './user.entity.js';

@Injectable()
export class UsersRepository {
  constructor(@InjectRepository(UserEntity) private readonly users: Repository<UserEntity>) {}

  async insert(user: UserEntity, tx?: Transaction): Promise<UserEntity> {
    await (tx ? tx.getRepository(UserEntity) : this.users).insert(user);
    return user;
  }

  findLiveByName(name: string): Promise<UserEntity | null> {
    return this.users.findOneBy({ name, deletedAt: IsNull() });
  }

  findLiveById(id: string): Promise<UserEntity | null> {
    return this.users.findOneBy({ id, deletedAt: IsNull() });
  }

  /** The live user an OIDC issuer's subject stands for. */
  findLiveByExternal(issuer: string, externalSubject: string): Promise<UserEntity | null> {
    return this.users.findOneBy({ issuer, externalSubject, deletedAt: IsNull() });
  }

  /** What a returning person's new ID token changes: name, e-mail, groups, role, last login. */
  async updateFromLogin(id: string, changes: Pick<UserEntity, 'name' | 'email' | 'groups' | 'role' | 'lastLoginAt'>, tx?: Transaction): Promise<void> {
    await (tx ? tx.getRepository(UserEntity) : this.users).update({ id }, changes);
  }

  listLiveByName(): Promise<UserEntity[]> {
    return this.users.find({ where: { deletedAt: IsNull() }, order: { name: 'ASC' } });
  }

  /** Marks a live user deleted; false if it was not live. */
  async markDeleted(id: string, at: Date, by: string, tx?: Transaction): Promise<boolean> {
    const result = await (tx ? tx.getRepository(UserEntity) : this.users).update({ id, deletedAt: IsNull() }, { deletedAt: at, deletedBy: by });
    return (result.affected ?? 0) === 1;
  }
}

import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { ConnectionEntity } from './connection.entity.js';

@Injectable()
export class ConnectionsRepository {
  constructor(@InjectRepository(ConnectionEntity) private readonly connections: Repository<ConnectionEntity>) {}

  async insert(connection: ConnectionEntity): Promise<ConnectionEntity> {
    await this.connections.insert(connection);
    return connection;
  }

  listByName(): Promise<ConnectionEntity[]> {
    return this.connections.find({ order: { name: 'ASC' } });
  }

  findByName(name: string): Promise<ConnectionEntity | null> {
    return this.connections.findOneBy({ name });
  }

  /** True if a row was deleted. */
  async deleteByName(name: string): Promise<boolean> {
    const result = await this.connections.delete({ name });
    return (result.affected ?? 0) > 0;
  }
}

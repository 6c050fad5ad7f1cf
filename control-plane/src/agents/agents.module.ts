import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module.js';
import { AgentEntity } from './agent.entity.js';
import { AgentRegistry } from './agent-registry.js';
import { AgentsController } from './agents.controller.js';
import { AgentsRepository } from './agents.repository.js';
import { AgentsService } from './agents.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([AgentEntity]), AuditModule],
  controllers: [AgentsController],
  providers: [AgentsRepository, AgentsService, AgentRegistry],
  exports: [AgentsService, AgentRegistry],
})
export class AgentsModule {}

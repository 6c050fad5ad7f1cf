import { Body, Controller, Get, HttpCode, Param, ParseIntPipe, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import { InvalidRequestError } from '../common/errors.js';
import { AnyRole, CurrentPrincipal, type Principal, Roles } from '../identity/principal.js';
import type { Role } from '../identity/roles.js';
import { ApproveReviewDto, RejectReviewDto } from './dto/decide-review.dto.js';
import { REVIEW_STATES, type ReviewState } from './review-state.js';
import { ReviewDetailView, ReviewListView, toReviewDetailView, toReviewView } from './review.views.js';
import { ReviewsService, type Reviewer } from './reviews.service.js';

/** Auditors change nothing; the service says why anyone else may not decide a given review. */
const DECIDERS: readonly Role[] = ['admin', 'reviewer', 'user'];

function reviewerOf(principal: Principal): Reviewer {
  return { subject: principal.subject, groups: principal.groups, role: principal.role };
}

@ApiTags('reviews')
@ApiBearerAuth()
@AnyRole()
@Controller('v1/reviews')
export class ReviewsController {
  constructor(private readonly reviews: ReviewsService) {}

  @Get()
  @ApiQuery({ name: 'state', required: false, enum: REVIEW_STATES })
  @ApiQuery({ name: 'limit', required: false })
  @ApiOkResponse({ type: ReviewListView, description: 'Newest first' })
  async list(@CurrentPrincipal() principal: Principal, @Query('state') state?: string, @Query('limit') limit?: string): Promise<ReviewListView> {
    if (state !== undefined && !(REVIEW_STATES as readonly string[]).includes(state)) {
      throw new InvalidRequestError(`state must be one of ${REVIEW_STATES.join(', ')}`);
    }
    if (limit !== undefined && !/^[1-9]\d{0,3}$/.test(limit)) throw new InvalidRequestError('limit must be a whole number from 1 to 500');
    const reviews = await this.reviews.list(state as ReviewState | undefined, limit ? Number(limit) : undefined, principal);
    return { reviews: reviews.map((r) => toReviewView(r)) };
  }

  @Get(':id')
  @ApiOkResponse({ type: ReviewDetailView })
  async get(@Param('id', ParseIntPipe) id: number, @CurrentPrincipal() principal: Principal): Promise<ReviewDetailView> {
    return toReviewDetailView(await this.reviews.get(id, principal));
  }

  @Post(':id/approve')
  @Roles(DECIDERS, 'decide reviews')
  @HttpCode(200)
  @ApiOkResponse({ type: ReviewDetailView })
  async approve(@Param('id', ParseIntPipe) id: number, @Body() body: ApproveReviewDto, @CurrentPrincipal() principal: Principal): Promise<ReviewDetailView> {
    await this.reviews.approve(id, reviewerOf(principal), { forSeconds: body.forSeconds, comment: body.comment });
    return toReviewDetailView(await this.reviews.get(id));
  }

  @Post(':id/cancel')
  @Roles(DECIDERS, 'cancel reviews')
  @HttpCode(200)
  @ApiOkResponse({ type: ReviewDetailView, description: 'Only the requester may cancel their own pending review' })
  async cancel(@Param('id', ParseIntPipe) id: number, @CurrentPrincipal() principal: Principal): Promise<ReviewDetailView> {
    await this.reviews.cancel(id, principal);
    return toReviewDetailView(await this.reviews.get(id));
  }

  @Post(':id/reject')
  @Roles(DECIDERS, 'decide reviews')
  @HttpCode(200)
  @ApiOkResponse({ type: ReviewDetailView })
  async reject(@Param('id', ParseIntPipe) id: number, @Body() body: RejectReviewDto, @CurrentPrincipal() principal: Principal): Promise<ReviewDetailView> {
    await this.reviews.reject(id, reviewerOf(principal), body.reason);
    return toReviewDetailView(await this.reviews.get(id));
  }
}

-- The schema Souk's migrations built at head 0025, before the marketplace had its own Alembic branch
-- (SQLite, made with that revision's scripts). Loaded by tests/platform/test_migrations.py.
CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
CREATE TABLE idempotency_records (
	id VARCHAR(64) NOT NULL, 
	owner VARCHAR(160) NOT NULL, 
	"key" VARCHAR(255) NOT NULL, 
	method VARCHAR(8) NOT NULL, 
	path VARCHAR(500) NOT NULL, 
	request_hash VARCHAR(64) NOT NULL, 
	status_code INTEGER, 
	response_body TEXT, 
	response_headers JSON NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_idempotency_records PRIMARY KEY (id), 
	CONSTRAINT uq_idempotency_records_owner_key UNIQUE (owner, "key")
);
CREATE TABLE ledger_accounts (
	id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	kind VARCHAR(50) NOT NULL, 
	owner_id VARCHAR(64) NOT NULL, 
	unit VARCHAR(8) NOT NULL, 
	allow_negative BOOLEAN NOT NULL, 
	balance BIGINT NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_ledger_accounts PRIMARY KEY (id), 
	CONSTRAINT uq_ledger_accounts_shop_id_kind_owner_id_unit UNIQUE (shop_id, kind, owner_id, unit)
);
CREATE INDEX ix_ledger_accounts_shop_id ON ledger_accounts (shop_id);
CREATE TABLE ledger_transfers (
	id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	kind VARCHAR(50) NOT NULL, 
	reference VARCHAR(64), 
	dedupe_key VARCHAR(200), 
	memo VARCHAR(500), 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_ledger_transfers PRIMARY KEY (id), 
	CONSTRAINT uq_ledger_transfers_dedupe_key UNIQUE (dedupe_key)
);
CREATE INDEX ix_ledger_transfers_reference ON ledger_transfers (reference);
CREATE INDEX ix_ledger_transfers_shop_id ON ledger_transfers (shop_id);
CREATE TABLE outbox_events (
	id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64), 
	type VARCHAR(100) NOT NULL, 
	subject_type VARCHAR(50) NOT NULL, 
	subject_id VARCHAR(64) NOT NULL, 
	payload JSON NOT NULL, 
	created_at DATETIME NOT NULL, 
	dispatched_at DATETIME, 
	CONSTRAINT pk_outbox_events PRIMARY KEY (id)
);
CREATE INDEX ix_outbox_events_dispatched_at ON outbox_events (dispatched_at);
CREATE INDEX ix_outbox_events_shop_id ON outbox_events (shop_id);
CREATE INDEX ix_outbox_events_shop_type ON outbox_events (shop_id, type);
CREATE INDEX ix_outbox_events_subject_id ON outbox_events (subject_id);
CREATE TABLE shops (
	id VARCHAR(64) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	currency VARCHAR(3) NOT NULL, 
	timezone VARCHAR(64) NOT NULL, 
	settings JSON NOT NULL, 
	created_at DATETIME NOT NULL, 
	version INTEGER NOT NULL, 
	CONSTRAINT pk_shops PRIMARY KEY (id)
);
CREATE TABLE access_tokens (
	id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	scopes JSON NOT NULL, 
	token_hash VARCHAR(64) NOT NULL, 
	token_hint VARCHAR(16) NOT NULL, 
	created_by VARCHAR(64), 
	installation_id VARCHAR(64), 
	created_at DATETIME NOT NULL, 
	expires_at DATETIME, 
	last_used_at DATETIME, 
	revoked_at DATETIME, 
	CONSTRAINT pk_access_tokens PRIMARY KEY (id), 
	CONSTRAINT fk_access_tokens_created_by_users FOREIGN KEY(created_by) REFERENCES users (id), 
	CONSTRAINT fk_access_tokens_shop_id_shops FOREIGN KEY(shop_id) REFERENCES shops (id), 
	CONSTRAINT uq_access_tokens_token_hash UNIQUE (token_hash)
);
CREATE INDEX ix_access_tokens_installation_id ON access_tokens (installation_id);
CREATE INDEX ix_access_tokens_shop_id ON access_tokens (shop_id);
CREATE TABLE ledger_entries (
	id VARCHAR(64) NOT NULL, 
	transfer_id VARCHAR(64) NOT NULL, 
	account_id VARCHAR(64) NOT NULL, 
	amount BIGINT NOT NULL, 
	unit VARCHAR(8) NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_ledger_entries PRIMARY KEY (id), 
	CONSTRAINT fk_ledger_entries_account_id_ledger_accounts FOREIGN KEY(account_id) REFERENCES ledger_accounts (id), 
	CONSTRAINT fk_ledger_entries_transfer_id_ledger_transfers FOREIGN KEY(transfer_id) REFERENCES ledger_transfers (id)
);
CREATE INDEX ix_ledger_entries_account_id ON ledger_entries (account_id);
CREATE INDEX ix_ledger_entries_transfer_id ON ledger_entries (transfer_id);
CREATE TABLE staff_members (
	id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	user_id VARCHAR(64) NOT NULL, 
	role VARCHAR(16) NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_staff_members PRIMARY KEY (id), 
	CONSTRAINT fk_staff_members_shop_id_shops FOREIGN KEY(shop_id) REFERENCES shops (id), 
	CONSTRAINT fk_staff_members_user_id_users FOREIGN KEY(user_id) REFERENCES users (id), 
	CONSTRAINT uq_staff_members_shop_id_user_id UNIQUE (shop_id, user_id)
);
CREATE INDEX ix_staff_members_shop_id ON staff_members (shop_id);
CREATE INDEX ix_staff_members_user_id ON staff_members (user_id);
CREATE TABLE carts (
	id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	customer_id VARCHAR(64), 
	status VARCHAR(20) NOT NULL, 
	converted_order_id VARCHAR(64), 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME, 
	version INTEGER NOT NULL, 
	CONSTRAINT pk_carts PRIMARY KEY (id), 
	CONSTRAINT fk_carts_shop_id_shops FOREIGN KEY(shop_id) REFERENCES shops (id)
);
CREATE INDEX ix_carts_converted_order_id ON carts (converted_order_id);
CREATE INDEX ix_carts_customer_id ON carts (customer_id);
CREATE INDEX ix_carts_shop_id ON carts (shop_id);
CREATE TABLE cart_lines (
	id VARCHAR(64) NOT NULL, 
	cart_id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	sku_id VARCHAR(64) NOT NULL, 
	quantity INTEGER NOT NULL, 
	position INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_cart_lines PRIMARY KEY (id), 
	CONSTRAINT fk_cart_lines_cart_id_carts FOREIGN KEY(cart_id) REFERENCES carts (id), 
	CONSTRAINT fk_cart_lines_shop_id_shops FOREIGN KEY(shop_id) REFERENCES shops (id), 
	CONSTRAINT uq_cart_lines_cart_id_sku_id UNIQUE (cart_id, sku_id)
);
CREATE INDEX ix_cart_lines_cart_id ON cart_lines (cart_id);
CREATE INDEX ix_cart_lines_shop_id ON cart_lines (shop_id);
CREATE INDEX ix_cart_lines_sku_id ON cart_lines (sku_id);
CREATE TABLE orders (
	id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	customer_id VARCHAR(64), 
	status VARCHAR(20) NOT NULL, 
	currency VARCHAR(3) NOT NULL, 
	subtotal BIGINT NOT NULL, 
	discount_total BIGINT NOT NULL, 
	fee_total BIGINT NOT NULL, 
	points_spent BIGINT NOT NULL, 
	points_value BIGINT NOT NULL, 
	stored_value_used BIGINT NOT NULL, 
	total BIGINT NOT NULL, 
	refunded_total BIGINT NOT NULL, 
	discounts JSON NOT NULL, 
	fees JSON NOT NULL, 
	points_earned BIGINT NOT NULL, 
	points_revoked BIGINT NOT NULL, 
	points_returned BIGINT NOT NULL, 
	cashback_amount BIGINT NOT NULL, 
	ip VARCHAR(64), 
	cart_id VARCHAR(64), 
	cancel_reason VARCHAR(500), 
	reservation_expires_at DATETIME NOT NULL, 
	created_at DATETIME NOT NULL, 
	paid_at DATETIME, 
	cancelled_at DATETIME, 
	fulfilled_at DATETIME, 
	completed_at DATETIME, 
	version INTEGER NOT NULL, 
	CONSTRAINT pk_orders PRIMARY KEY (id), 
	CONSTRAINT fk_orders_shop_id_shops FOREIGN KEY(shop_id) REFERENCES shops (id)
);
CREATE INDEX ix_orders_cart_id ON orders (cart_id);
CREATE INDEX ix_orders_customer_id ON orders (customer_id);
CREATE INDEX ix_orders_shop_id ON orders (shop_id);
CREATE INDEX ix_orders_shop_customer_created ON orders (shop_id, customer_id, created_at);
CREATE INDEX ix_orders_shop_ip_created ON orders (shop_id, ip, created_at);
CREATE INDEX ix_orders_status_expires ON orders (status, reservation_expires_at);
CREATE TABLE order_lines (
	id VARCHAR(64) NOT NULL, 
	order_id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	sku_id VARCHAR(64) NOT NULL, 
	product_id VARCHAR(64) NOT NULL, 
	title VARCHAR(300) NOT NULL, 
	unit_price BIGINT NOT NULL, 
	quantity INTEGER NOT NULL, 
	discount BIGINT NOT NULL, 
	refunded_quantity INTEGER NOT NULL, 
	position INTEGER NOT NULL, 
	CONSTRAINT pk_order_lines PRIMARY KEY (id), 
	CONSTRAINT fk_order_lines_order_id_orders FOREIGN KEY(order_id) REFERENCES orders (id), 
	CONSTRAINT fk_order_lines_shop_id_shops FOREIGN KEY(shop_id) REFERENCES shops (id)
);
CREATE INDEX ix_order_lines_order_id ON order_lines (order_id);
CREATE INDEX ix_order_lines_product_id ON order_lines (product_id);
CREATE INDEX ix_order_lines_shop_id ON order_lines (shop_id);
CREATE INDEX ix_order_lines_sku_id ON order_lines (sku_id);
CREATE TABLE payments (
	id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	order_id VARCHAR(64) NOT NULL, 
	provider VARCHAR(20) NOT NULL, 
	provider_reference VARCHAR(100), 
	amount BIGINT NOT NULL, 
	currency VARCHAR(3) NOT NULL, 
	status VARCHAR(20) NOT NULL, 
	failure_reason VARCHAR(200), 
	created_at DATETIME NOT NULL, 
	settled_at DATETIME, 
	CONSTRAINT pk_payments PRIMARY KEY (id), 
	CONSTRAINT fk_payments_order_id_orders FOREIGN KEY(order_id) REFERENCES orders (id), 
	CONSTRAINT fk_payments_shop_id_shops FOREIGN KEY(shop_id) REFERENCES shops (id)
);
CREATE INDEX ix_payments_order_id ON payments (order_id);
CREATE INDEX ix_payments_shop_id ON payments (shop_id);
CREATE TABLE refunds (
	id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	order_id VARCHAR(64) NOT NULL, 
	amount BIGINT NOT NULL, 
	stored_value_amount BIGINT NOT NULL, 
	points_returned BIGINT NOT NULL, 
	points_revoked BIGINT NOT NULL, 
	reason VARCHAR(500) NOT NULL, 
	restock BOOLEAN NOT NULL, 
	status VARCHAR(20) NOT NULL, 
	lines JSON NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_refunds PRIMARY KEY (id), 
	CONSTRAINT fk_refunds_order_id_orders FOREIGN KEY(order_id) REFERENCES orders (id), 
	CONSTRAINT fk_refunds_shop_id_shops FOREIGN KEY(shop_id) REFERENCES shops (id)
);
CREATE INDEX ix_refunds_order_id ON refunds (order_id);
CREATE INDEX ix_refunds_shop_id ON refunds (shop_id);
CREATE TABLE coupons (
	id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	code VARCHAR(64), 
	name VARCHAR(200) NOT NULL, 
	kind VARCHAR(16) NOT NULL, 
	value BIGINT NOT NULL, 
	min_spend BIGINT NOT NULL, 
	max_discount BIGINT, 
	auto_apply BOOLEAN NOT NULL, 
	stackable BOOLEAN NOT NULL, 
	per_customer_limit INTEGER, 
	total_limit INTEGER, 
	starts_at DATETIME, 
	ends_at DATETIME, 
	status VARCHAR(16) NOT NULL, 
	redeemed_count INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	version INTEGER NOT NULL, 
	CONSTRAINT pk_coupons PRIMARY KEY (id), 
	CONSTRAINT fk_coupons_shop_id_shops FOREIGN KEY(shop_id) REFERENCES shops (id), 
	CONSTRAINT uq_coupons_shop_id_code UNIQUE (shop_id, code)
);
CREATE INDEX ix_coupons_shop_id ON coupons (shop_id);
CREATE TABLE coupon_redemptions (
	id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	coupon_id VARCHAR(64) NOT NULL, 
	customer_id VARCHAR(64), 
	order_id VARCHAR(64) NOT NULL, 
	amount BIGINT NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	CONSTRAINT pk_coupon_redemptions PRIMARY KEY (id), 
	CONSTRAINT fk_coupon_redemptions_coupon_id_coupons FOREIGN KEY(coupon_id) REFERENCES coupons (id), 
	CONSTRAINT fk_coupon_redemptions_shop_id_shops FOREIGN KEY(shop_id) REFERENCES shops (id), 
	CONSTRAINT uq_coupon_redemptions_coupon_id_order_id UNIQUE (coupon_id, order_id)
);
CREATE INDEX ix_coupon_redemptions_coupon_id ON coupon_redemptions (coupon_id);
CREATE INDEX ix_coupon_redemptions_customer_id ON coupon_redemptions (customer_id);
CREATE INDEX ix_coupon_redemptions_order_id ON coupon_redemptions (order_id);
CREATE INDEX ix_coupon_redemptions_shop_id ON coupon_redemptions (shop_id);
CREATE TABLE points_lots (
	id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	customer_id VARCHAR(64) NOT NULL, 
	points BIGINT NOT NULL, 
	remaining BIGINT NOT NULL, 
	expires_at DATETIME NOT NULL, 
	reference VARCHAR(64), 
	dedupe_key VARCHAR(200) NOT NULL, 
	transfer_id VARCHAR(64) NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_points_lots PRIMARY KEY (id), 
	CONSTRAINT fk_points_lots_shop_id_shops FOREIGN KEY(shop_id) REFERENCES shops (id), 
	CONSTRAINT uq_points_lots_dedupe_key UNIQUE (dedupe_key)
);
CREATE INDEX ix_points_lots_customer_expiry ON points_lots (shop_id, customer_id, expires_at);
CREATE INDEX ix_points_lots_customer_id ON points_lots (customer_id);
CREATE INDEX ix_points_lots_expires_at ON points_lots (expires_at);
CREATE INDEX ix_points_lots_shop_id ON points_lots (shop_id);
CREATE TABLE cashback_schedules (
	id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	order_id VARCHAR(64) NOT NULL, 
	customer_id VARCHAR(64) NOT NULL, 
	original_amount BIGINT NOT NULL, 
	amount BIGINT NOT NULL, 
	currency VARCHAR(3) NOT NULL, 
	due_at DATETIME NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	credited_at DATETIME, 
	transfer_id VARCHAR(64), 
	created_at DATETIME NOT NULL, 
	version INTEGER NOT NULL, 
	CONSTRAINT pk_cashback_schedules PRIMARY KEY (id), 
	CONSTRAINT fk_cashback_schedules_shop_id_shops FOREIGN KEY(shop_id) REFERENCES shops (id), 
	CONSTRAINT uq_cashback_schedules_order_id UNIQUE (order_id)
);
CREATE INDEX ix_cashback_schedules_customer_id ON cashback_schedules (customer_id);
CREATE INDEX ix_cashback_schedules_due_at ON cashback_schedules (due_at);
CREATE INDEX ix_cashback_schedules_shop_id ON cashback_schedules (shop_id);
CREATE TABLE customers (
	id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	phone VARCHAR(32), 
	email VARCHAR(320), 
	level SMALLINT NOT NULL, 
	orders_count INTEGER NOT NULL, 
	total_spent BIGINT NOT NULL, 
	last_order_at DATETIME, 
	level_changed_at DATETIME, 
	created_at DATETIME NOT NULL, 
	version INTEGER NOT NULL, 
	CONSTRAINT pk_customers PRIMARY KEY (id), 
	CONSTRAINT fk_customers_shop_id_shops FOREIGN KEY(shop_id) REFERENCES shops (id), 
	CONSTRAINT uq_customers_shop_id_email UNIQUE (shop_id, email), 
	CONSTRAINT uq_customers_shop_id_phone UNIQUE (shop_id, phone)
);
CREATE INDEX ix_customers_shop_id ON customers (shop_id);
CREATE TABLE member_level_configs (
	id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	window_days INTEGER NOT NULL, 
	downgrade_period_days INTEGER NOT NULL, 
	levels JSON NOT NULL, 
	updated_at DATETIME NOT NULL, 
	version INTEGER NOT NULL, 
	CONSTRAINT pk_member_level_configs PRIMARY KEY (id), 
	CONSTRAINT fk_member_level_configs_shop_id_shops FOREIGN KEY(shop_id) REFERENCES shops (id), 
	CONSTRAINT uq_member_level_configs_shop_id UNIQUE (shop_id)
);
CREATE TABLE segments (
	id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	name VARCHAR(100) NOT NULL, 
	description VARCHAR(500), 
	condition JSON NOT NULL, 
	created_at DATETIME NOT NULL, 
	version INTEGER NOT NULL, 
	CONSTRAINT pk_segments PRIMARY KEY (id), 
	CONSTRAINT fk_segments_shop_id_shops FOREIGN KEY(shop_id) REFERENCES shops (id), 
	CONSTRAINT uq_segments_shop_id_name UNIQUE (shop_id, name)
);
CREATE INDEX ix_segments_shop_id ON segments (shop_id);
CREATE TABLE tag_imports (
	id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	rows INTEGER NOT NULL, 
	imported INTEGER NOT NULL, 
	failed INTEGER NOT NULL, 
	errors JSON NOT NULL, 
	created_tags JSON NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_tag_imports PRIMARY KEY (id), 
	CONSTRAINT fk_tag_imports_shop_id_shops FOREIGN KEY(shop_id) REFERENCES shops (id)
);
CREATE INDEX ix_tag_imports_shop_id ON tag_imports (shop_id);
CREATE TABLE tags (
	id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	name VARCHAR(100) NOT NULL, 
	kind VARCHAR(16) NOT NULL, 
	description VARCHAR(500), 
	condition JSON, 
	evaluated_at DATETIME, 
	created_at DATETIME NOT NULL, 
	version INTEGER NOT NULL, 
	CONSTRAINT pk_tags PRIMARY KEY (id), 
	CONSTRAINT fk_tags_shop_id_shops FOREIGN KEY(shop_id) REFERENCES shops (id), 
	CONSTRAINT uq_tags_shop_id_name UNIQUE (shop_id, name)
);
CREATE INDEX ix_tags_shop_id ON tags (shop_id);
CREATE TABLE customer_purchases (
	id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	customer_id VARCHAR(64) NOT NULL, 
	order_id VARCHAR(64) NOT NULL, 
	amount BIGINT NOT NULL, 
	counts_as_order BOOLEAN NOT NULL, 
	at DATETIME NOT NULL, 
	dedupe_key VARCHAR(200) NOT NULL, 
	CONSTRAINT pk_customer_purchases PRIMARY KEY (id), 
	CONSTRAINT fk_customer_purchases_customer_id_customers FOREIGN KEY(customer_id) REFERENCES customers (id), 
	CONSTRAINT fk_customer_purchases_shop_id_shops FOREIGN KEY(shop_id) REFERENCES shops (id), 
	CONSTRAINT uq_customer_purchases_shop_id_dedupe_key UNIQUE (shop_id, dedupe_key)
);
CREATE INDEX ix_customer_purchases_customer_at ON customer_purchases (customer_id, at);
CREATE INDEX ix_customer_purchases_order_id ON customer_purchases (order_id);
CREATE INDEX ix_customer_purchases_shop_id ON customer_purchases (shop_id);
CREATE TABLE customer_tags (
	tag_id VARCHAR(64) NOT NULL, 
	customer_id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_customer_tags PRIMARY KEY (tag_id, customer_id), 
	CONSTRAINT fk_customer_tags_customer_id_customers FOREIGN KEY(customer_id) REFERENCES customers (id), 
	CONSTRAINT fk_customer_tags_shop_id_shops FOREIGN KEY(shop_id) REFERENCES shops (id), 
	CONSTRAINT fk_customer_tags_tag_id_tags FOREIGN KEY(tag_id) REFERENCES tags (id) ON DELETE CASCADE
);
CREATE INDEX ix_customer_tags_customer_id ON customer_tags (customer_id);
CREATE INDEX ix_customer_tags_shop_id ON customer_tags (shop_id);
CREATE TABLE member_level_changes (
	id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	customer_id VARCHAR(64) NOT NULL, 
	from_level SMALLINT NOT NULL, 
	to_level SMALLINT NOT NULL, 
	source VARCHAR(16) NOT NULL, 
	reason VARCHAR(500) NOT NULL, 
	stats JSON, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_member_level_changes PRIMARY KEY (id), 
	CONSTRAINT fk_member_level_changes_customer_id_customers FOREIGN KEY(customer_id) REFERENCES customers (id), 
	CONSTRAINT fk_member_level_changes_shop_id_shops FOREIGN KEY(shop_id) REFERENCES shops (id)
);
CREATE INDEX ix_member_level_changes_customer_id_id ON member_level_changes (customer_id, id);
CREATE INDEX ix_member_level_changes_shop_id ON member_level_changes (shop_id);
CREATE TABLE products (
	id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	title VARCHAR(200) NOT NULL, 
	description TEXT NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	version INTEGER NOT NULL, 
	CONSTRAINT pk_products PRIMARY KEY (id), 
	CONSTRAINT fk_products_shop_id_shops FOREIGN KEY(shop_id) REFERENCES shops (id)
);
CREATE INDEX ix_products_shop_id ON products (shop_id);
CREATE TABLE skus (
	id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	product_id VARCHAR(64) NOT NULL, 
	code VARCHAR(64) NOT NULL, 
	title VARCHAR(200) NOT NULL, 
	price BIGINT NOT NULL, 
	currency VARCHAR(3) NOT NULL, 
	on_hand INTEGER NOT NULL, 
	reserved INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	version INTEGER NOT NULL, 
	CONSTRAINT pk_skus PRIMARY KEY (id), 
	CONSTRAINT ck_skus_on_hand_not_negative CHECK (on_hand >= 0), 
	CONSTRAINT ck_skus_price_not_negative CHECK (price >= 0), 
	CONSTRAINT ck_skus_reserved_within_on_hand CHECK (reserved <= on_hand), 
	CONSTRAINT ck_skus_reserved_not_negative CHECK (reserved >= 0), 
	CONSTRAINT fk_skus_product_id_products FOREIGN KEY(product_id) REFERENCES products (id), 
	CONSTRAINT fk_skus_shop_id_shops FOREIGN KEY(shop_id) REFERENCES shops (id), 
	CONSTRAINT uq_skus_shop_id_code UNIQUE (shop_id, code)
);
CREATE INDEX ix_skus_product_id ON skus (product_id);
CREATE INDEX ix_skus_shop_id ON skus (shop_id);
CREATE TABLE inventory_adjustments (
	id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	sku_id VARCHAR(64) NOT NULL, 
	delta INTEGER NOT NULL, 
	reason VARCHAR(200) NOT NULL, 
	ref VARCHAR(64), 
	on_hand_after INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_inventory_adjustments PRIMARY KEY (id), 
	CONSTRAINT fk_inventory_adjustments_shop_id_shops FOREIGN KEY(shop_id) REFERENCES shops (id), 
	CONSTRAINT fk_inventory_adjustments_sku_id_skus FOREIGN KEY(sku_id) REFERENCES skus (id)
);
CREATE INDEX ix_inventory_adjustments_ref ON inventory_adjustments (ref);
CREATE INDEX ix_inventory_adjustments_shop_id ON inventory_adjustments (shop_id);
CREATE INDEX ix_inventory_adjustments_sku_id ON inventory_adjustments (sku_id);
CREATE TABLE stock_reservations (
	id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	ref VARCHAR(64) NOT NULL, 
	sku_id VARCHAR(64) NOT NULL, 
	quantity INTEGER NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	expires_at DATETIME NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_stock_reservations PRIMARY KEY (id), 
	CONSTRAINT ck_stock_reservations_quantity_positive CHECK (quantity > 0), 
	CONSTRAINT fk_stock_reservations_shop_id_shops FOREIGN KEY(shop_id) REFERENCES shops (id), 
	CONSTRAINT fk_stock_reservations_sku_id_skus FOREIGN KEY(sku_id) REFERENCES skus (id), 
	CONSTRAINT uq_stock_reservations_ref_sku_id UNIQUE (ref, sku_id)
);
CREATE INDEX ix_stock_reservations_shop_id ON stock_reservations (shop_id);
CREATE INDEX ix_stock_reservations_sku_id ON stock_reservations (sku_id);
CREATE INDEX ix_stock_reservations_status_expires_at ON stock_reservations (status, expires_at);
CREATE TABLE apps (
	id VARCHAR(64) NOT NULL, 
	developer_id VARCHAR(64) NOT NULL, 
	name VARCHAR(100) NOT NULL, 
	client_id VARCHAR(64) NOT NULL, 
	client_type VARCHAR(16) NOT NULL, 
	client_secret_hash VARCHAR(64), 
	client_secret_hint VARCHAR(8), 
	previous_secret_hash VARCHAR(64), 
	previous_secret_expires_at DATETIME, 
	status VARCHAR(16) NOT NULL, 
	current_version_id VARCHAR(64), 
	created_at DATETIME NOT NULL, 
	version INTEGER NOT NULL, webhook_secret_sealed TEXT, previous_webhook_secret_sealed TEXT, previous_webhook_secret_expires_at DATETIME, 
	CONSTRAINT pk_apps PRIMARY KEY (id), 
	CONSTRAINT fk_apps_developer_id_users FOREIGN KEY(developer_id) REFERENCES users (id), 
	CONSTRAINT uq_apps_client_id UNIQUE (client_id)
);
CREATE INDEX ix_apps_developer_id ON apps (developer_id);
CREATE TABLE app_versions (
	id VARCHAR(64) NOT NULL, 
	app_id VARCHAR(64) NOT NULL, 
	number INTEGER NOT NULL, 
	manifest JSON NOT NULL, 
	scopes JSON NOT NULL, 
	redirect_uris JSON NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_app_versions PRIMARY KEY (id), 
	CONSTRAINT fk_app_versions_app_id_apps FOREIGN KEY(app_id) REFERENCES apps (id), 
	CONSTRAINT uq_app_versions_app_id_number UNIQUE (app_id, number)
);
CREATE INDEX ix_app_versions_app_id ON app_versions (app_id);
CREATE TABLE installations (
	id VARCHAR(64) NOT NULL, 
	app_id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	app_version_id VARCHAR(64) NOT NULL, 
	granted_scopes JSON NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	installed_by VARCHAR(64), 
	installed_at DATETIME NOT NULL, 
	uninstalled_at DATETIME, 
	version INTEGER NOT NULL, 
	CONSTRAINT pk_installations PRIMARY KEY (id), 
	CONSTRAINT fk_installations_app_id_apps FOREIGN KEY(app_id) REFERENCES apps (id), 
	CONSTRAINT fk_installations_app_version_id_app_versions FOREIGN KEY(app_version_id) REFERENCES app_versions (id), 
	CONSTRAINT fk_installations_installed_by_users FOREIGN KEY(installed_by) REFERENCES users (id), 
	CONSTRAINT fk_installations_shop_id_shops FOREIGN KEY(shop_id) REFERENCES shops (id)
);
CREATE INDEX ix_installations_app_shop ON installations (app_id, shop_id);
CREATE INDEX ix_installations_shop_id ON installations (shop_id);
CREATE INDEX ix_orders_shop_paid ON orders (shop_id, paid_at);
CREATE INDEX ix_orders_shop_created ON orders (shop_id, created_at);
CREATE INDEX ix_carts_shop_created ON carts (shop_id, created_at);
CREATE TABLE webhook_subscriptions (
	id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	installation_id VARCHAR(64), 
	url VARCHAR(2048) NOT NULL, 
	description VARCHAR(200) NOT NULL, 
	topics JSON NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	disabled_reason VARCHAR(200), 
	secret_sealed TEXT NOT NULL, 
	previous_secret_sealed TEXT, 
	previous_secret_expires_at DATETIME, 
	failing_since DATETIME, 
	created_at DATETIME NOT NULL, 
	version INTEGER NOT NULL, source VARCHAR(16) DEFAULT 'api' NOT NULL, 
	CONSTRAINT pk_webhook_subscriptions PRIMARY KEY (id), 
	CONSTRAINT fk_webhook_subscriptions_shop_id_shops FOREIGN KEY(shop_id) REFERENCES shops (id)
);
CREATE INDEX ix_webhook_subscriptions_installation_id ON webhook_subscriptions (installation_id);
CREATE INDEX ix_webhook_subscriptions_shop_id ON webhook_subscriptions (shop_id);
CREATE TABLE webhook_deliveries (
	id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	subscription_id VARCHAR(64) NOT NULL, 
	event_id VARCHAR(64), 
	event_type VARCHAR(100) NOT NULL, 
	body TEXT NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	attempts INTEGER NOT NULL, 
	round_start INTEGER NOT NULL, 
	next_attempt_at DATETIME, 
	last_attempt_at DATETIME, 
	last_error VARCHAR(500), 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_webhook_deliveries PRIMARY KEY (id), 
	CONSTRAINT fk_webhook_deliveries_shop_id_shops FOREIGN KEY(shop_id) REFERENCES shops (id), 
	CONSTRAINT fk_webhook_deliveries_subscription_id_webhook_subscriptions FOREIGN KEY(subscription_id) REFERENCES webhook_subscriptions (id), 
	CONSTRAINT uq_webhook_deliveries_event_id_subscription_id UNIQUE (event_id, subscription_id)
);
CREATE INDEX ix_webhook_deliveries_shop_id_created_at ON webhook_deliveries (shop_id, created_at);
CREATE INDEX ix_webhook_deliveries_status_next_attempt_at ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX ix_webhook_deliveries_shop_id ON webhook_deliveries (shop_id);
CREATE INDEX ix_webhook_deliveries_subscription_id ON webhook_deliveries (subscription_id);
CREATE TABLE webhook_attempts (
	id VARCHAR(64) NOT NULL, 
	delivery_id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	attempted_at DATETIME NOT NULL, 
	url VARCHAR(2048) NOT NULL, 
	request_headers JSON NOT NULL, 
	request_body TEXT NOT NULL, 
	response_status INTEGER, 
	response_body TEXT, 
	latency_ms INTEGER NOT NULL, 
	error VARCHAR(500), 
	CONSTRAINT pk_webhook_attempts PRIMARY KEY (id), 
	CONSTRAINT fk_webhook_attempts_delivery_id_webhook_deliveries FOREIGN KEY(delivery_id) REFERENCES webhook_deliveries (id), 
	CONSTRAINT fk_webhook_attempts_shop_id_shops FOREIGN KEY(shop_id) REFERENCES shops (id)
);
CREATE INDEX ix_webhook_attempts_delivery_id ON webhook_attempts (delivery_id);
CREATE INDEX ix_webhook_attempts_shop_id ON webhook_attempts (shop_id);
CREATE TABLE oauth_codes (
	id VARCHAR(64) NOT NULL, 
	code_hash VARCHAR(64) NOT NULL, 
	app_id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	user_id VARCHAR(64) NOT NULL, 
	installation_id VARCHAR(64) NOT NULL, 
	redirect_uri VARCHAR(2000), 
	scopes JSON NOT NULL, 
	code_challenge VARCHAR(128), 
	code_challenge_method VARCHAR(16), 
	created_at DATETIME NOT NULL, 
	expires_at DATETIME NOT NULL, 
	used_at DATETIME, 
	CONSTRAINT pk_oauth_codes PRIMARY KEY (id), 
	CONSTRAINT fk_oauth_codes_shop_id_shops FOREIGN KEY(shop_id) REFERENCES shops (id), 
	CONSTRAINT uq_oauth_codes_code_hash UNIQUE (code_hash)
);
CREATE INDEX ix_oauth_codes_app_id ON oauth_codes (app_id);
CREATE INDEX ix_oauth_codes_installation_id ON oauth_codes (installation_id);
CREATE INDEX ix_oauth_codes_shop_id ON oauth_codes (shop_id);
CREATE TABLE oauth_refresh_tokens (
	id VARCHAR(64) NOT NULL, 
	token_hash VARCHAR(64) NOT NULL, 
	app_id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	installation_id VARCHAR(64) NOT NULL, 
	family_id VARCHAR(64) NOT NULL, 
	access_token_id VARCHAR(64) NOT NULL, 
	scopes JSON NOT NULL, 
	created_at DATETIME NOT NULL, 
	expires_at DATETIME NOT NULL, 
	rotated_at DATETIME, 
	revoked_at DATETIME, 
	CONSTRAINT pk_oauth_refresh_tokens PRIMARY KEY (id), 
	CONSTRAINT fk_oauth_refresh_tokens_shop_id_shops FOREIGN KEY(shop_id) REFERENCES shops (id), 
	CONSTRAINT uq_oauth_refresh_tokens_token_hash UNIQUE (token_hash)
);
CREATE INDEX ix_oauth_refresh_tokens_access_token_id ON oauth_refresh_tokens (access_token_id);
CREATE INDEX ix_oauth_refresh_tokens_app_id ON oauth_refresh_tokens (app_id);
CREATE INDEX ix_oauth_refresh_tokens_family_id ON oauth_refresh_tokens (family_id);
CREATE INDEX ix_oauth_refresh_tokens_installation_id ON oauth_refresh_tokens (installation_id);
CREATE INDEX ix_oauth_refresh_tokens_shop_id ON oauth_refresh_tokens (shop_id);
CREATE TABLE oauth_app_tokens (
	id VARCHAR(64) NOT NULL, 
	app_id VARCHAR(64) NOT NULL, 
	token_hash VARCHAR(64) NOT NULL, 
	token_hint VARCHAR(16) NOT NULL, 
	created_at DATETIME NOT NULL, 
	expires_at DATETIME NOT NULL, 
	revoked_at DATETIME, approved_by VARCHAR(64), 
	CONSTRAINT pk_oauth_app_tokens PRIMARY KEY (id), 
	CONSTRAINT uq_oauth_app_tokens_token_hash UNIQUE (token_hash)
);
CREATE INDEX ix_oauth_app_tokens_app_id ON oauth_app_tokens (app_id);
CREATE TABLE IF NOT EXISTS "users" (
	id VARCHAR(64) NOT NULL, 
	email VARCHAR(320) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	password_hash VARCHAR(256) NOT NULL, 
	is_platform_admin BOOLEAN NOT NULL, 
	locale VARCHAR(16), 
	created_at DATETIME NOT NULL, 
	is_developer BOOLEAN DEFAULT 0 NOT NULL, 
	CONSTRAINT pk_users PRIMARY KEY (id), 
	CONSTRAINT uq_users_email UNIQUE (email)
);
CREATE TABLE plugin_activations (
	id VARCHAR(64) NOT NULL, 
	installation_id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	app_id VARCHAR(64) NOT NULL, 
	point VARCHAR(64) NOT NULL, 
	module VARCHAR(200) NOT NULL, 
	config JSON NOT NULL, 
	enabled BOOLEAN NOT NULL, 
	created_at DATETIME NOT NULL, 
	version INTEGER NOT NULL, 
	CONSTRAINT pk_plugin_activations PRIMARY KEY (id), 
	CONSTRAINT fk_plugin_activations_app_id_apps FOREIGN KEY(app_id) REFERENCES apps (id), 
	CONSTRAINT fk_plugin_activations_installation_id_installations FOREIGN KEY(installation_id) REFERENCES installations (id), 
	CONSTRAINT fk_plugin_activations_shop_id_shops FOREIGN KEY(shop_id) REFERENCES shops (id), 
	CONSTRAINT uq_plugin_activations_installation_id_point_module UNIQUE (installation_id, point, module)
);
CREATE INDEX ix_plugin_activations_app_id ON plugin_activations (app_id);
CREATE INDEX ix_plugin_activations_installation_id ON plugin_activations (installation_id);
CREATE INDEX ix_plugin_activations_shop_id ON plugin_activations (shop_id);
CREATE TABLE plugins (
	id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64), 
	app_version_id VARCHAR(64), 
	module_path VARCHAR(200), 
	name VARCHAR(100) NOT NULL, 
	point VARCHAR(64) NOT NULL, 
	sha256 VARCHAR(64) NOT NULL, 
	size_bytes INTEGER NOT NULL, 
	module BLOB NOT NULL, 
	config_schema JSON, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_plugins PRIMARY KEY (id), 
	CONSTRAINT fk_plugins_shop_id_shops FOREIGN KEY(shop_id) REFERENCES shops (id), 
	CONSTRAINT uq_plugins_app_version_id_module_path UNIQUE (app_version_id, module_path)
);
CREATE INDEX ix_plugins_app_version_id ON plugins (app_version_id);
CREATE INDEX ix_plugins_sha256 ON plugins (sha256);
CREATE INDEX ix_plugins_shop_id ON plugins (shop_id);
CREATE TABLE shop_plugin_activations (
	id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	plugin_id VARCHAR(64) NOT NULL, 
	position INTEGER NOT NULL, 
	config JSON NOT NULL, 
	enabled BOOLEAN NOT NULL, 
	on_failure VARCHAR(16), 
	created_at DATETIME NOT NULL, 
	version INTEGER NOT NULL, 
	CONSTRAINT pk_shop_plugin_activations PRIMARY KEY (id), 
	CONSTRAINT fk_shop_plugin_activations_plugin_id_plugins FOREIGN KEY(plugin_id) REFERENCES plugins (id), 
	CONSTRAINT fk_shop_plugin_activations_shop_id_shops FOREIGN KEY(shop_id) REFERENCES shops (id), 
	CONSTRAINT uq_shop_plugin_activations_shop_id_plugin_id UNIQUE (shop_id, plugin_id)
);
CREATE INDEX ix_shop_plugin_activations_plugin_id ON shop_plugin_activations (plugin_id);
CREATE INDEX ix_shop_plugin_activations_shop_id ON shop_plugin_activations (shop_id);
CREATE TABLE plugin_invocations (
	id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	plugin_id VARCHAR(64) NOT NULL, 
	activation_id VARCHAR(64) NOT NULL, 
	point VARCHAR(64) NOT NULL, 
	outcome VARCHAR(32) NOT NULL, 
	message VARCHAR(500) NOT NULL, 
	fuel BIGINT NOT NULL, 
	elapsed_us INTEGER NOT NULL, 
	input_sha256 VARCHAR(64) NOT NULL, 
	input TEXT, 
	output JSON, 
	module_sha256 VARCHAR(64) NOT NULL, 
	created_at DATETIME NOT NULL, app_id VARCHAR(64), 
	CONSTRAINT pk_plugin_invocations PRIMARY KEY (id), 
	CONSTRAINT fk_plugin_invocations_plugin_id_plugins FOREIGN KEY(plugin_id) REFERENCES plugins (id), 
	CONSTRAINT fk_plugin_invocations_shop_id_shops FOREIGN KEY(shop_id) REFERENCES shops (id)
);
CREATE INDEX ix_plugin_invocations_shop_id_plugin_id_created_at ON plugin_invocations (shop_id, plugin_id, created_at);
CREATE INDEX ix_plugin_invocations_created_at ON plugin_invocations (created_at);
CREATE INDEX ix_plugin_invocations_plugin_id ON plugin_invocations (plugin_id);
CREATE INDEX ix_plugin_invocations_shop_id ON plugin_invocations (shop_id);
CREATE TABLE service_providers (
	id VARCHAR(64) NOT NULL, 
	user_id VARCHAR(64) NOT NULL, 
	display_name VARCHAR(100) NOT NULL, 
	bio TEXT NOT NULL, 
	categories JSON NOT NULL, 
	created_at DATETIME NOT NULL, 
	version INTEGER NOT NULL, 
	CONSTRAINT pk_service_providers PRIMARY KEY (id), 
	CONSTRAINT fk_service_providers_user_id_users FOREIGN KEY(user_id) REFERENCES users (id), 
	CONSTRAINT uq_service_providers_user_id UNIQUE (user_id)
);
CREATE TABLE market_services (
	id VARCHAR(64) NOT NULL, 
	provider_id VARCHAR(64) NOT NULL, 
	category VARCHAR(32) NOT NULL, 
	title VARCHAR(200) NOT NULL, 
	description TEXT NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	created_at DATETIME NOT NULL, 
	version INTEGER NOT NULL, 
	CONSTRAINT pk_market_services PRIMARY KEY (id), 
	CONSTRAINT fk_market_services_provider_id_service_providers FOREIGN KEY(provider_id) REFERENCES service_providers (id)
);
CREATE INDEX ix_market_services_provider_id ON market_services (provider_id);
CREATE INDEX ix_market_services_status_category ON market_services (status, category);
CREATE TABLE service_packages (
	id VARCHAR(64) NOT NULL, 
	service_id VARCHAR(64) NOT NULL, 
	position INTEGER NOT NULL, 
	name VARCHAR(100) NOT NULL, 
	description VARCHAR(1000) NOT NULL, 
	kind VARCHAR(16) NOT NULL, 
	price BIGINT NOT NULL, 
	currency VARCHAR(3) NOT NULL, 
	delivery_days INTEGER NOT NULL, 
	revisions INTEGER NOT NULL, 
	milestones JSON NOT NULL, 
	created_at DATETIME NOT NULL, 
	archived_at DATETIME, 
	CONSTRAINT pk_service_packages PRIMARY KEY (id), 
	CONSTRAINT fk_service_packages_service_id_market_services FOREIGN KEY(service_id) REFERENCES market_services (id)
);
CREATE INDEX ix_service_packages_service_id ON service_packages (service_id);
CREATE TABLE service_portfolio_items (
	id VARCHAR(64) NOT NULL, 
	provider_id VARCHAR(64) NOT NULL, 
	title VARCHAR(200) NOT NULL, 
	text TEXT NOT NULL, 
	link VARCHAR(500), 
	image_type VARCHAR(50), 
	image BLOB, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_service_portfolio_items PRIMARY KEY (id), 
	CONSTRAINT fk_service_portfolio_items_provider_id_service_providers FOREIGN KEY(provider_id) REFERENCES service_providers (id)
);
CREATE INDEX ix_service_portfolio_items_provider_id ON service_portfolio_items (provider_id);
CREATE TABLE service_orders (
	id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	provider_id VARCHAR(64) NOT NULL, 
	provider_user_id VARCHAR(64) NOT NULL, 
	service_id VARCHAR(64) NOT NULL, 
	package_id VARCHAR(64) NOT NULL, 
	service_title VARCHAR(200) NOT NULL, 
	package_name VARCHAR(100) NOT NULL, 
	kind VARCHAR(16) NOT NULL, 
	amount BIGINT NOT NULL, 
	currency VARCHAR(3) NOT NULL, 
	revisions_included INTEGER NOT NULL, 
	fee_bps INTEGER NOT NULL, 
	state VARCHAR(32) NOT NULL, 
	placed_by VARCHAR(64), 
	requirements TEXT, 
	due_at DATETIME, 
	review_until DATETIME, 
	clearing_until DATETIME, 
	dispute_from VARCHAR(32), 
	dispute_reason TEXT, 
	answer_until DATETIME, 
	mediation_until DATETIME, 
	offer_by VARCHAR(16), 
	offer_refund BIGINT, 
	released_total BIGINT NOT NULL, 
	fee_total BIGINT NOT NULL, 
	refunded_total BIGINT NOT NULL, 
	created_at DATETIME NOT NULL, 
	closed_at DATETIME, 
	version INTEGER NOT NULL, 
	CONSTRAINT pk_service_orders PRIMARY KEY (id), 
	CONSTRAINT fk_service_orders_package_id_service_packages FOREIGN KEY(package_id) REFERENCES service_packages (id), 
	CONSTRAINT fk_service_orders_provider_id_service_providers FOREIGN KEY(provider_id) REFERENCES service_providers (id), 
	CONSTRAINT fk_service_orders_service_id_market_services FOREIGN KEY(service_id) REFERENCES market_services (id), 
	CONSTRAINT fk_service_orders_shop_id_shops FOREIGN KEY(shop_id) REFERENCES shops (id)
);
CREATE INDEX ix_service_orders_shop_id ON service_orders (shop_id);
CREATE INDEX ix_service_orders_provider_id ON service_orders (provider_id);
CREATE INDEX ix_service_orders_service_id ON service_orders (service_id);
CREATE INDEX ix_service_orders_state ON service_orders (state);
CREATE INDEX ix_service_orders_review_until ON service_orders (review_until);
CREATE INDEX ix_service_orders_clearing_until ON service_orders (clearing_until);
CREATE INDEX ix_service_orders_answer_until ON service_orders (answer_until);
CREATE INDEX ix_service_orders_mediation_until ON service_orders (mediation_until);
CREATE INDEX ix_service_orders_shop_state ON service_orders (shop_id, state);
CREATE TABLE service_milestones (
	id VARCHAR(64) NOT NULL, 
	order_id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	position INTEGER NOT NULL, 
	title VARCHAR(200) NOT NULL, 
	amount BIGINT NOT NULL, 
	delivery_days INTEGER NOT NULL, 
	state VARCHAR(16) NOT NULL, 
	revisions_used INTEGER NOT NULL, 
	started_at DATETIME, 
	due_at DATETIME, 
	delivered_at DATETIME, 
	accepted_at DATETIME, 
	released_at DATETIME, 
	CONSTRAINT pk_service_milestones PRIMARY KEY (id), 
	CONSTRAINT fk_service_milestones_order_id_service_orders FOREIGN KEY(order_id) REFERENCES service_orders (id), 
	CONSTRAINT fk_service_milestones_shop_id_shops FOREIGN KEY(shop_id) REFERENCES shops (id)
);
CREATE INDEX ix_service_milestones_order_id ON service_milestones (order_id);
CREATE INDEX ix_service_milestones_shop_id ON service_milestones (shop_id);
CREATE TABLE service_extensions (
	id VARCHAR(64) NOT NULL, 
	order_id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	milestone_id VARCHAR(64) NOT NULL, 
	days INTEGER NOT NULL, 
	reason VARCHAR(1000) NOT NULL, 
	state VARCHAR(16) NOT NULL, 
	requested_at DATETIME NOT NULL, 
	expires_at DATETIME NOT NULL, 
	decided_at DATETIME, 
	CONSTRAINT pk_service_extensions PRIMARY KEY (id), 
	CONSTRAINT fk_service_extensions_milestone_id_service_milestones FOREIGN KEY(milestone_id) REFERENCES service_milestones (id), 
	CONSTRAINT fk_service_extensions_order_id_service_orders FOREIGN KEY(order_id) REFERENCES service_orders (id), 
	CONSTRAINT fk_service_extensions_shop_id_shops FOREIGN KEY(shop_id) REFERENCES shops (id)
);
CREATE INDEX ix_service_extensions_order_id ON service_extensions (order_id);
CREATE INDEX ix_service_extensions_shop_id ON service_extensions (shop_id);
CREATE INDEX ix_service_extensions_expires_at ON service_extensions (expires_at);
CREATE TABLE service_order_events (
	id VARCHAR(64) NOT NULL, 
	order_id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	at DATETIME NOT NULL, 
	actor VARCHAR(16) NOT NULL, 
	user_id VARCHAR(64), 
	kind VARCHAR(40) NOT NULL, 
	from_state VARCHAR(32), 
	to_state VARCHAR(32), 
	note TEXT, 
	details JSON NOT NULL, 
	CONSTRAINT pk_service_order_events PRIMARY KEY (id), 
	CONSTRAINT fk_service_order_events_order_id_service_orders FOREIGN KEY(order_id) REFERENCES service_orders (id), 
	CONSTRAINT fk_service_order_events_shop_id_shops FOREIGN KEY(shop_id) REFERENCES shops (id)
);
CREATE INDEX ix_service_order_events_order_id ON service_order_events (order_id);
CREATE INDEX ix_service_order_events_shop_id ON service_order_events (shop_id);
CREATE TABLE service_files (
	id VARCHAR(64) NOT NULL, 
	order_id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	milestone_id VARCHAR(64), 
	uploaded_by VARCHAR(16) NOT NULL, 
	user_id VARCHAR(64), 
	filename VARCHAR(255) NOT NULL, 
	content_type VARCHAR(100) NOT NULL, 
	size INTEGER NOT NULL, 
	sha256 VARCHAR(64) NOT NULL, 
	content BLOB NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_service_files PRIMARY KEY (id), 
	CONSTRAINT fk_service_files_order_id_service_orders FOREIGN KEY(order_id) REFERENCES service_orders (id), 
	CONSTRAINT fk_service_files_shop_id_shops FOREIGN KEY(shop_id) REFERENCES shops (id)
);
CREATE INDEX ix_service_files_order_id ON service_files (order_id);
CREATE INDEX ix_service_files_shop_id ON service_files (shop_id);
CREATE TABLE service_ratings (
	id VARCHAR(64) NOT NULL, 
	order_id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	provider_id VARCHAR(64) NOT NULL, 
	service_id VARCHAR(64) NOT NULL, 
	stars INTEGER NOT NULL, 
	text TEXT NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_service_ratings PRIMARY KEY (id), 
	CONSTRAINT fk_service_ratings_order_id_service_orders FOREIGN KEY(order_id) REFERENCES service_orders (id), 
	CONSTRAINT fk_service_ratings_provider_id_service_providers FOREIGN KEY(provider_id) REFERENCES service_providers (id), 
	CONSTRAINT fk_service_ratings_shop_id_shops FOREIGN KEY(shop_id) REFERENCES shops (id), 
	CONSTRAINT uq_service_ratings_order_id UNIQUE (order_id)
);
CREATE INDEX ix_service_ratings_provider_id ON service_ratings (provider_id);
CREATE INDEX ix_service_ratings_service_id ON service_ratings (service_id);
CREATE INDEX ix_service_ratings_shop_id ON service_ratings (shop_id);
CREATE TABLE requirements (
	id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	posted_by VARCHAR(64), 
	title VARCHAR(120) NOT NULL, 
	description TEXT NOT NULL, 
	category VARCHAR(32) NOT NULL, 
	budget_amount BIGINT NOT NULL, 
	currency VARCHAR(3) NOT NULL, 
	deadline DATETIME NOT NULL, 
	acceptance_criteria TEXT NOT NULL, 
	selection_mode VARCHAR(16) NOT NULL, 
	state VARCHAR(20) NOT NULL, 
	pledged_total BIGINT NOT NULL, 
	backers_count INTEGER NOT NULL, 
	accepted_proposal_id VARCHAR(64), 
	merged_into_id VARCHAR(64), 
	delivered_app_id VARCHAR(64), 
	delivered_app_version_id VARCHAR(64), 
	delivered_at DATETIME, 
	vote_closes_at DATETIME, 
	accepted_at DATETIME, 
	payout_due_at DATETIME, 
	developer_amount BIGINT, 
	fee_amount BIGINT, 
	closed_at DATETIME, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	version INTEGER NOT NULL, 
	CONSTRAINT pk_requirements PRIMARY KEY (id), 
	CONSTRAINT fk_requirements_posted_by_users FOREIGN KEY(posted_by) REFERENCES users (id), 
	CONSTRAINT fk_requirements_shop_id_shops FOREIGN KEY(shop_id) REFERENCES shops (id)
);
CREATE INDEX ix_requirements_category ON requirements (category);
CREATE INDEX ix_requirements_deadline ON requirements (deadline);
CREATE INDEX ix_requirements_shop_id ON requirements (shop_id);
CREATE INDEX ix_requirements_state ON requirements (state);
CREATE TABLE requirement_pledges (
	id VARCHAR(64) NOT NULL, 
	requirement_id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	pledged_by VARCHAR(64), 
	amount BIGINT NOT NULL, 
	currency VARCHAR(3) NOT NULL, 
	state VARCHAR(16) NOT NULL, 
	merged_from_id VARCHAR(64), 
	merged_at DATETIME, 
	released_amount BIGINT NOT NULL, 
	refunded_amount BIGINT NOT NULL, 
	created_at DATETIME NOT NULL, 
	closed_at DATETIME, 
	CONSTRAINT pk_requirement_pledges PRIMARY KEY (id), 
	CONSTRAINT fk_requirement_pledges_pledged_by_users FOREIGN KEY(pledged_by) REFERENCES users (id), 
	CONSTRAINT fk_requirement_pledges_requirement_id_requirements FOREIGN KEY(requirement_id) REFERENCES requirements (id), 
	CONSTRAINT fk_requirement_pledges_shop_id_shops FOREIGN KEY(shop_id) REFERENCES shops (id)
);
CREATE INDEX ix_requirement_pledges_requirement_id ON requirement_pledges (requirement_id);
CREATE INDEX ix_requirement_pledges_shop_id ON requirement_pledges (shop_id);
CREATE TABLE requirement_proposals (
	id VARCHAR(64) NOT NULL, 
	requirement_id VARCHAR(64) NOT NULL, 
	developer_id VARCHAR(64) NOT NULL, 
	price_amount BIGINT NOT NULL, 
	currency VARCHAR(3) NOT NULL, 
	delivery_date DATE NOT NULL, 
	"plan" TEXT NOT NULL, 
	state VARCHAR(16) NOT NULL, 
	created_at DATETIME NOT NULL, 
	decided_at DATETIME, 
	CONSTRAINT pk_requirement_proposals PRIMARY KEY (id), 
	CONSTRAINT fk_requirement_proposals_developer_id_users FOREIGN KEY(developer_id) REFERENCES users (id), 
	CONSTRAINT fk_requirement_proposals_requirement_id_requirements FOREIGN KEY(requirement_id) REFERENCES requirements (id)
);
CREATE INDEX ix_requirement_proposals_developer_id ON requirement_proposals (developer_id);
CREATE INDEX ix_requirement_proposals_requirement_id ON requirement_proposals (requirement_id);
CREATE TABLE requirement_timeline (
	id VARCHAR(64) NOT NULL, 
	requirement_id VARCHAR(64) NOT NULL, 
	at DATETIME NOT NULL, 
	state VARCHAR(20), 
	event VARCHAR(40) NOT NULL, 
	actor_type VARCHAR(16) NOT NULL, 
	actor_id VARCHAR(64), 
	actor_name VARCHAR(200) NOT NULL, 
	note VARCHAR(2000) NOT NULL, 
	CONSTRAINT pk_requirement_timeline PRIMARY KEY (id), 
	CONSTRAINT fk_requirement_timeline_requirement_id_requirements FOREIGN KEY(requirement_id) REFERENCES requirements (id)
);
CREATE INDEX ix_requirement_timeline_requirement_id ON requirement_timeline (requirement_id);
CREATE TABLE requirement_votes (
	id VARCHAR(64) NOT NULL, 
	requirement_id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	kind VARCHAR(16) NOT NULL, 
	proposal_id VARCHAR(64), 
	decision VARCHAR(16), 
	cast_at DATETIME NOT NULL, 
	CONSTRAINT pk_requirement_votes PRIMARY KEY (id), 
	CONSTRAINT fk_requirement_votes_requirement_id_requirements FOREIGN KEY(requirement_id) REFERENCES requirements (id), 
	CONSTRAINT fk_requirement_votes_shop_id_shops FOREIGN KEY(shop_id) REFERENCES shops (id), 
	CONSTRAINT uq_requirement_votes_requirement_id_shop_id_kind UNIQUE (requirement_id, shop_id, kind)
);
CREATE INDEX ix_requirement_votes_requirement_id ON requirement_votes (requirement_id);
CREATE INDEX ix_requirement_votes_shop_id ON requirement_votes (shop_id);
CREATE TABLE billing_invoices (
	id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	number VARCHAR(32) NOT NULL, 
	sequence INTEGER NOT NULL, 
	month VARCHAR(7) NOT NULL, 
	timezone VARCHAR(64) NOT NULL, 
	period_start DATETIME NOT NULL, 
	period_end DATETIME NOT NULL, 
	lines JSON NOT NULL, 
	totals JSON NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_billing_invoices PRIMARY KEY (id), 
	CONSTRAINT fk_billing_invoices_shop_id_shops FOREIGN KEY(shop_id) REFERENCES shops (id), 
	CONSTRAINT uq_billing_invoices_shop_id_month UNIQUE (shop_id, month), 
	CONSTRAINT uq_billing_invoices_shop_id_sequence UNIQUE (shop_id, sequence)
);
CREATE INDEX ix_billing_invoices_shop_id ON billing_invoices (shop_id);
CREATE TABLE billing_payouts (
	id VARCHAR(64) NOT NULL, 
	developer_id VARCHAR(64) NOT NULL, 
	amount BIGINT NOT NULL, 
	currency VARCHAR(3) NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	reference VARCHAR(64) NOT NULL, 
	"trigger" VARCHAR(16) NOT NULL, 
	transfer_id VARCHAR(64) NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_billing_payouts PRIMARY KEY (id), 
	CONSTRAINT fk_billing_payouts_developer_id_users FOREIGN KEY(developer_id) REFERENCES users (id), 
	CONSTRAINT uq_billing_payouts_reference UNIQUE (reference)
);
CREATE INDEX ix_billing_payouts_developer_id ON billing_payouts (developer_id);
CREATE TABLE billing_exemptions (
	id VARCHAR(64) NOT NULL, 
	app_id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	reason VARCHAR(200) NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_billing_exemptions PRIMARY KEY (id), 
	CONSTRAINT fk_billing_exemptions_app_id_apps FOREIGN KEY(app_id) REFERENCES apps (id), 
	CONSTRAINT fk_billing_exemptions_shop_id_shops FOREIGN KEY(shop_id) REFERENCES shops (id), 
	CONSTRAINT uq_billing_exemptions_app_id_shop_id UNIQUE (app_id, shop_id)
);
CREATE INDEX ix_billing_exemptions_app_id ON billing_exemptions (app_id);
CREATE INDEX ix_billing_exemptions_shop_id ON billing_exemptions (shop_id);
CREATE TABLE billing_charges (
	id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	app_id VARCHAR(64) NOT NULL, 
	installation_id VARCHAR(64) NOT NULL, 
	developer_id VARCHAR(64) NOT NULL, 
	subscription_id VARCHAR(64), 
	kind VARCHAR(16) NOT NULL, 
	description VARCHAR(500) NOT NULL, 
	amount BIGINT NOT NULL, 
	list_price BIGINT NOT NULL, 
	currency VARCHAR(3) NOT NULL, 
	fee BIGINT NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	free_reason VARCHAR(200), 
	return_url VARCHAR(2000), 
	idempotency_key VARCHAR(255), 
	period_start DATETIME, 
	period_end DATETIME, 
	refunded BIGINT NOT NULL, 
	held_amount BIGINT NOT NULL, 
	held_until DATETIME, 
	released_at DATETIME, 
	decided_by VARCHAR(64), 
	paid_at DATETIME, 
	decided_at DATETIME, 
	created_at DATETIME NOT NULL, 
	version INTEGER NOT NULL, 
	CONSTRAINT pk_billing_charges PRIMARY KEY (id), 
	CONSTRAINT fk_billing_charges_app_id_apps FOREIGN KEY(app_id) REFERENCES apps (id), 
	CONSTRAINT fk_billing_charges_installation_id_installations FOREIGN KEY(installation_id) REFERENCES installations (id), 
	CONSTRAINT fk_billing_charges_shop_id_shops FOREIGN KEY(shop_id) REFERENCES shops (id), 
	CONSTRAINT uq_billing_charges_subscription_id_idempotency_key UNIQUE (subscription_id, idempotency_key)
);
CREATE INDEX ix_billing_charges_app_id ON billing_charges (app_id);
CREATE INDEX ix_billing_charges_developer_id ON billing_charges (developer_id);
CREATE INDEX ix_billing_charges_installation_id ON billing_charges (installation_id);
CREATE INDEX ix_billing_charges_paid_at ON billing_charges (paid_at);
CREATE INDEX ix_billing_charges_release ON billing_charges (released_at, held_until);
CREATE INDEX ix_billing_charges_shop_id ON billing_charges (shop_id);
CREATE INDEX ix_billing_charges_subscription_id ON billing_charges (subscription_id);
CREATE TABLE billing_subscriptions (
	id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	app_id VARCHAR(64) NOT NULL, 
	installation_id VARCHAR(64) NOT NULL, 
	developer_id VARCHAR(64) NOT NULL, 
	plan_id VARCHAR(40) NOT NULL, 
	kind VARCHAR(16) NOT NULL, 
	price BIGINT NOT NULL, 
	list_price BIGINT NOT NULL, 
	currency VARCHAR(3) NOT NULL, 
	interval VARCHAR(8) NOT NULL, 
	trial_days INTEGER NOT NULL, 
	usage_cap BIGINT, 
	usage_used BIGINT NOT NULL, 
	return_url VARCHAR(2000) NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	free_reason VARCHAR(200), 
	replaces_id VARCHAR(64), 
	trial_ends_at DATETIME, 
	billing_anchor DATETIME, 
	current_period_start DATETIME, 
	current_period_end DATETIME, 
	retry_at DATETIME, 
	failed_attempts INTEGER NOT NULL, 
	decided_by VARCHAR(64), 
	decided_at DATETIME, 
	cancelled_at DATETIME, 
	created_at DATETIME NOT NULL, 
	version INTEGER NOT NULL, 
	CONSTRAINT pk_billing_subscriptions PRIMARY KEY (id), 
	CONSTRAINT fk_billing_subscriptions_app_id_apps FOREIGN KEY(app_id) REFERENCES apps (id), 
	CONSTRAINT fk_billing_subscriptions_installation_id_installations FOREIGN KEY(installation_id) REFERENCES installations (id), 
	CONSTRAINT fk_billing_subscriptions_shop_id_shops FOREIGN KEY(shop_id) REFERENCES shops (id)
);
CREATE INDEX ix_billing_subscriptions_app_id ON billing_subscriptions (app_id);
CREATE INDEX ix_billing_subscriptions_current_period_end ON billing_subscriptions (current_period_end);
CREATE INDEX ix_billing_subscriptions_developer_id ON billing_subscriptions (developer_id);
CREATE INDEX ix_billing_subscriptions_installation_status ON billing_subscriptions (installation_id, status);
CREATE INDEX ix_billing_subscriptions_shop_id ON billing_subscriptions (shop_id);
CREATE TABLE billing_refunds (
	id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	charge_id VARCHAR(64) NOT NULL, 
	app_id VARCHAR(64) NOT NULL, 
	developer_id VARCHAR(64) NOT NULL, 
	kind VARCHAR(20) NOT NULL, 
	amount BIGINT NOT NULL, 
	currency VARCHAR(3) NOT NULL, 
	fee_reversed BIGINT NOT NULL, 
	from_held BIGINT NOT NULL, 
	from_available BIGINT NOT NULL, 
	reason VARCHAR(500) NOT NULL, 
	idempotency_key VARCHAR(255), 
	created_by VARCHAR(64) NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_billing_refunds PRIMARY KEY (id), 
	CONSTRAINT fk_billing_refunds_charge_id_billing_charges FOREIGN KEY(charge_id) REFERENCES billing_charges (id), 
	CONSTRAINT fk_billing_refunds_shop_id_shops FOREIGN KEY(shop_id) REFERENCES shops (id), 
	CONSTRAINT uq_billing_refunds_charge_id_idempotency_key UNIQUE (charge_id, idempotency_key)
);
CREATE INDEX ix_billing_refunds_app_id ON billing_refunds (app_id);
CREATE INDEX ix_billing_refunds_charge_id ON billing_refunds (charge_id);
CREATE INDEX ix_billing_refunds_developer_id ON billing_refunds (developer_id);
CREATE INDEX ix_billing_refunds_shop_id ON billing_refunds (shop_id);
CREATE TABLE listing_images (
	id VARCHAR(64) NOT NULL, 
	listing_id VARCHAR(64) NOT NULL, 
	sha256 VARCHAR(64) NOT NULL, 
	content_type VARCHAR(32) NOT NULL, 
	size_bytes INTEGER NOT NULL, 
	data BLOB NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_listing_images PRIMARY KEY (id), 
	CONSTRAINT fk_listing_images_listing_id_listings FOREIGN KEY(listing_id) REFERENCES listings (id), 
	CONSTRAINT uq_listing_images_listing_id_sha256 UNIQUE (listing_id, sha256)
);
CREATE INDEX ix_listing_images_listing_id ON listing_images (listing_id);
CREATE TABLE listing_submissions (
	id VARCHAR(64) NOT NULL, 
	listing_id VARCHAR(64) NOT NULL, 
	app_id VARCHAR(64) NOT NULL, 
	app_version_id VARCHAR(64) NOT NULL, 
	number INTEGER NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	texts JSON NOT NULL, 
	category VARCHAR(32) NOT NULL, 
	icon_image_id VARCHAR(64) NOT NULL, 
	screenshot_image_ids JSON NOT NULL, 
	support_contact VARCHAR(320) NOT NULL, 
	privacy_url VARCHAR(2000) NOT NULL, 
	install_url VARCHAR(2000), 
	changelog TEXT NOT NULL, 
	scope_justifications JSON NOT NULL, 
	checks JSON NOT NULL, 
	submitted_by VARCHAR(64), 
	submitted_at DATETIME NOT NULL, 
	checks_finished_at DATETIME, 
	decided_at DATETIME, 
	decided_by VARCHAR(64), 
	decision_reason TEXT, 
	checklist JSON NOT NULL, 
	CONSTRAINT pk_listing_submissions PRIMARY KEY (id), 
	CONSTRAINT fk_listing_submissions_app_id_apps FOREIGN KEY(app_id) REFERENCES apps (id), 
	CONSTRAINT fk_listing_submissions_app_version_id_app_versions FOREIGN KEY(app_version_id) REFERENCES app_versions (id), 
	CONSTRAINT fk_listing_submissions_decided_by_users FOREIGN KEY(decided_by) REFERENCES users (id), 
	CONSTRAINT fk_listing_submissions_icon_image_id_listing_images FOREIGN KEY(icon_image_id) REFERENCES listing_images (id), 
	CONSTRAINT fk_listing_submissions_listing_id_listings FOREIGN KEY(listing_id) REFERENCES listings (id), 
	CONSTRAINT fk_listing_submissions_submitted_by_users FOREIGN KEY(submitted_by) REFERENCES users (id), 
	CONSTRAINT uq_listing_submissions_listing_id_number UNIQUE (listing_id, number)
);
CREATE INDEX ix_listing_submissions_app_id ON listing_submissions (app_id);
CREATE INDEX ix_listing_submissions_app_version_id ON listing_submissions (app_version_id);
CREATE INDEX ix_listing_submissions_listing_id ON listing_submissions (listing_id);
CREATE INDEX ix_listing_submissions_status ON listing_submissions (status);
CREATE TABLE listing_events (
	id VARCHAR(64) NOT NULL, 
	listing_id VARCHAR(64) NOT NULL, 
	number INTEGER NOT NULL, 
	submission_id VARCHAR(64), 
	action VARCHAR(32) NOT NULL, 
	from_state VARCHAR(16) NOT NULL, 
	to_state VARCHAR(16) NOT NULL, 
	actor_kind VARCHAR(16) NOT NULL, 
	actor_id VARCHAR(64), 
	reason TEXT, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_listing_events PRIMARY KEY (id), 
	CONSTRAINT fk_listing_events_listing_id_listings FOREIGN KEY(listing_id) REFERENCES listings (id), 
	CONSTRAINT uq_listing_events_listing_id_number UNIQUE (listing_id, number)
);
CREATE INDEX ix_listing_events_listing_id ON listing_events (listing_id);
CREATE TABLE app_ratings (
	id VARCHAR(64) NOT NULL, 
	app_id VARCHAR(64) NOT NULL, 
	shop_id VARCHAR(64) NOT NULL, 
	stars SMALLINT NOT NULL, 
	text TEXT NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	reply_text TEXT, 
	replied_at DATETIME, 
	version INTEGER NOT NULL, 
	CONSTRAINT pk_app_ratings PRIMARY KEY (id), 
	CONSTRAINT ck_app_ratings_stars_range CHECK (stars BETWEEN 1 AND 5), 
	CONSTRAINT fk_app_ratings_app_id_apps FOREIGN KEY(app_id) REFERENCES apps (id), 
	CONSTRAINT fk_app_ratings_shop_id_shops FOREIGN KEY(shop_id) REFERENCES shops (id), 
	CONSTRAINT uq_app_ratings_app_id_shop_id UNIQUE (app_id, shop_id)
);
CREATE INDEX ix_app_ratings_app_id ON app_ratings (app_id);
CREATE INDEX ix_app_ratings_shop_id ON app_ratings (shop_id);
CREATE INDEX ix_plugin_invocations_app_id_id ON plugin_invocations (app_id, id);
CREATE TABLE webhook_listen_sessions (
	id VARCHAR(64) NOT NULL, 
	app_id VARCHAR(64) NOT NULL, 
	created_at DATETIME NOT NULL, 
	last_poll_at DATETIME NOT NULL, 
	CONSTRAINT pk_webhook_listen_sessions PRIMARY KEY (id), 
	CONSTRAINT fk_webhook_listen_sessions_app_id_apps FOREIGN KEY(app_id) REFERENCES apps (id)
);
CREATE INDEX ix_webhook_listen_sessions_app_id ON webhook_listen_sessions (app_id);
CREATE TABLE webhook_listen_events (
	session_id VARCHAR(64) NOT NULL, 
	delivery_id VARCHAR(64) NOT NULL, 
	taken_at DATETIME NOT NULL, 
	CONSTRAINT pk_webhook_listen_events PRIMARY KEY (session_id, delivery_id), 
	CONSTRAINT fk_webhook_listen_events_session_id_webhook_listen_sessions FOREIGN KEY(session_id) REFERENCES webhook_listen_sessions (id)
);
CREATE TABLE IF NOT EXISTS "listings" (
	id VARCHAR(64) NOT NULL, 
	app_id VARCHAR(64) NOT NULL, 
	slug VARCHAR(80) NOT NULL, 
	state VARCHAR(16) NOT NULL, 
	listed_submission_id VARCHAR(64), 
	category VARCHAR(32), 
	first_listed_at DATETIME, 
	listed_at DATETIME, 
	crowdfunded BOOLEAN NOT NULL, 
	crowdfunded_requirement_id VARCHAR(64), 
	search_text TEXT NOT NULL, 
	search_vector TEXT, 
	created_at DATETIME NOT NULL, 
	version INTEGER NOT NULL, 
	CONSTRAINT pk_listings PRIMARY KEY (id), 
	CONSTRAINT fk_listings_app_id_apps FOREIGN KEY(app_id) REFERENCES apps (id), 
	CONSTRAINT uq_listings_app_id UNIQUE (app_id), 
	CONSTRAINT uq_listings_slug UNIQUE (slug)
);
CREATE INDEX ix_listings_category ON listings (category);
CREATE INDEX ix_listings_search_vector ON listings (search_vector);
CREATE INDEX ix_listings_state ON listings (state);
CREATE TABLE oauth_device_authorizations (
	id VARCHAR(64) NOT NULL, 
	app_id VARCHAR(64) NOT NULL, 
	device_code_hash VARCHAR(64) NOT NULL, 
	user_code VARCHAR(16) NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	decided_by VARCHAR(64), 
	created_at DATETIME NOT NULL, 
	expires_at DATETIME NOT NULL, 
	last_polled_at DATETIME, 
	CONSTRAINT pk_oauth_device_authorizations PRIMARY KEY (id), 
	CONSTRAINT uq_oauth_device_authorizations_device_code_hash UNIQUE (device_code_hash), 
	CONSTRAINT uq_oauth_device_authorizations_user_code UNIQUE (user_code)
);
CREATE INDEX ix_oauth_device_authorizations_app_id ON oauth_device_authorizations (app_id);
INSERT INTO alembic_version VALUES('0025');

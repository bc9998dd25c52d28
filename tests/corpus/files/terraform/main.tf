resource "aws_db_instance" "shop" {
  engine            = "postgres"
  instance_class    = "db.t3.micro"
  username          = "shop"
  password          = var.db_password
  allocated_storage = 20
}

variable "db_password" {
  type      = string
  sensitive = true
}
